import type { Argv, CommandModule } from 'yargs';
import { addOptions, readArgs } from '../../options/cli.ts';
import { COLOR_OPTIONS, FCN_SCORE_OPTIONS, LABELS_OPTIONS } from '../../options/eval.ts';
import { entry } from './index.ts';
import { withExamples } from '../examples.ts';

/*
 * `pix2pix eval <sub-command>`. Each sub-command only parses flags and delegates to src/eval;
 * implementations load lazily inside handlers. `buildEvalCommand(extra)` lets further
 * sub-commands (rf, run) join the group without editing this file.
 */

/** `--max-pixels`, when given, becomes the budget of every decode of this command. */
async function applyPixelBudget(maxPixels: number | undefined): Promise<void> {
  if (maxPixels !== undefined) (await import('../../image/decode.ts')).setPixelBudget(maxPixels);
}

async function writeCsv(file: string, text: string): Promise<void> {
  const { writeFileAtomic } = await import('../../util/fs.ts');
  await writeFileAtomic(file, text);
  process.stderr.write(`Wrote ${file}\n`);
}

type ScoreResult = { scores: import('../../eval/scores.ts').FcnScores; confusion: import('../../eval/confusion.ts').ConfusionMatrix };

/** The text report (or with `json`, one JSON object) on stdout, and the CSV if asked for. */
async function printScores(result: ScoreResult, o: { csv?: string; json: boolean }): Promise<void> {
  const [{ TRAIN_ID_NAMES }, report] = await Promise.all([import('../../data/cityscapes.ts'), import('../../eval/report.ts')]);
  const { scores, confusion } = result;
  const text = o.json
    ? JSON.stringify(report.scoresJson(scores, TRAIN_ID_NAMES, confusion.frames, confusion.droppedFrames))
    : report.formatScores(scores, TRAIN_ID_NAMES, confusion.frames, confusion.droppedFrames);
  process.stdout.write(`${text}\n`);
  if (o.csv) await writeCsv(o.csv, report.scoresCsv(scores, TRAIN_ID_NAMES));
}

/** A progress callback that opens its bar on the first frame (when the total is known). */
async function frameBar(label: string, quiet: boolean): Promise<(done: number, total: number) => void> {
  const { ProgressBar } = await import('../../util/progress.ts');
  let bar: InstanceType<typeof ProgressBar> | undefined;
  return (done, total) => {
    bar ??= new ProgressBar({ label, total, unit: 'img', quiet });
    bar.tick(1);
    if (done === total) bar.finish();
  };
}

const evalFcnScoreCommand: CommandModule = {
  command: 'fcn-score',
  describe: 'FCN-score of generated Cityscapes photos (labels→photo, Tables 1-3): segment them and score against ground truth',
  builder: (y: Argv) => withExamples(addOptions(y, FCN_SCORE_OPTIONS), 'eval fcn-score'),
  handler: async (argv) => {
    const a = readArgs(FCN_SCORE_OPTIONS, argv);
    await applyPixelBudget(a.maxPixels);
    const [{ loadSegmenterSpec, runSegmenterOnnx }, { runFcnScore }] = await Promise.all([
      import('../../eval/segmenter.ts'),
      import('../../eval/fcn-score.ts'),
    ]);
    const spec = await loadSegmenterSpec(a.segmenter, a.preset);
    const { model, release } = await runSegmenterOnnx(a.segmenter, spec);
    try {
      const result = await runFcnScore({
        imagesDir: a.generated,
        labelsDir: a.labels,
        model,
        spec,
        modelName: a.segmenter,
        labelEncoding: a.labelEncoding,
        mode: a.reference ? 'reference' : 'strict',
        onFrame: await frameBar('fcn-score', a.quiet),
      });
      await printScores(result, a);
    } finally {
      await release();
    }
  },
};

const evalLabelsCommand: CommandModule = {
  command: 'labels',
  describe: 'Score generated colour label maps (photo→labels, Table 6) against ground truth by nearest Cityscapes colour',
  builder: (y: Argv) => withExamples(addOptions(y, LABELS_OPTIONS), 'eval labels'),
  handler: async (argv) => {
    const a = readArgs(LABELS_OPTIONS, argv);
    await applyPixelBudget(a.maxPixels);
    const { runLabelScore } = await import('../../eval/label-score.ts');
    const result = await runLabelScore({
      predDir: a.generated,
      labelsDir: a.labels,
      voidColors: a.voidColors,
      resolution: a.resolution,
      labelEncoding: a.labelEncoding,
      mode: a.reference ? 'reference' : 'strict',
      onFrame: await frameBar('labels', a.quiet),
    });
    await printScores(result, a);
  },
};

const evalColorCommand: CommandModule = {
  command: 'color',
  describe: 'Lab colour-distribution match of generated vs real photos (Figure 7): per-channel histogram intersection',
  builder: (y: Argv) => withExamples(addOptions(y, COLOR_OPTIONS), 'eval color'),
  handler: async (argv) => {
    const a = readArgs(COLOR_OPTIONS, argv);
    await applyPixelBudget(a.maxPixels);
    const [{ runColorScore }, report] = await Promise.all([import('../../eval/color-score.ts'), import('../../eval/report.ts')]);
    const r = await runColorScore({ generatedDir: a.generated, realDir: a.real, bins: a.bins, onImage: await frameBar('color', a.quiet) });
    const text = a.json
      ? JSON.stringify(report.colorJson(r.intersections, r.generated, r.real))
      : report.formatColorResult(r.intersections, r.generated, r.real);
    process.stdout.write(`${text}\n`);
    if (a.csv) await writeCsv(a.csv, report.colorCsv(r.intersections, r.generated, r.real));
  },
};

/** The sub-commands this file implements, in help order. */
const evalSubcommands: CommandModule[] = [evalFcnScoreCommand, evalLabelsCommand, evalColorCommand];

/** `pix2pix eval` with this file's sub-commands followed by `extra` (e.g. rf, run). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function buildEvalCommand(extra: CommandModule<any, any>[] = []): CommandModule<object, object> {
  return {
    ...entry('eval'),
    builder: (y) => {
      let b = y;
      for (const c of [...evalSubcommands, ...extra]) b = b.command(c);
      return b.demandCommand(1, 'name an eval sub-command: fcn-score, labels, color, rf or run');
    },
    handler: () => undefined,
  };
}
