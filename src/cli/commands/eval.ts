import type { Argv, CommandModule } from 'yargs';

/*
 * `pix2pix eval <sub-command>`. Each sub-command only parses flags and delegates to src/eval;
 * implementations load lazily inside handlers. `buildEvalCommand(extra)` lets further
 * sub-commands (rf, run) join the group without editing this file.
 */

interface CommonScoreArgs {
  labels: string;
  csv?: string;
  'label-encoding': 'labelIds' | 'trainIds';
  reference: boolean;
  quiet: boolean;
}

interface FcnScoreArgs extends CommonScoreArgs {
  segmenter: string;
  preset?: string;
  images: string;
}

interface LabelsArgs extends CommonScoreArgs {
  pred: string;
  'void-colors': 'none' | 'black' | 'all';
  resolution: 'label' | 'prediction';
}

interface ColorArgs {
  generated: string;
  real: string;
  bins: number;
  csv?: string;
  quiet: boolean;
}

function commonScoreOptions<T>(y: Argv<T>) {
  return y
    .option('labels', {
      type: 'string',
      demandOption: true,
      describe: 'ground truth folder (searched recursively): Cityscapes gtFine/<split> or any folder of label maps',
    })
    .option('label-encoding', {
      choices: ['labelIds', 'trainIds'] as const,
      default: 'labelIds' as const,
      describe: 'labelIds: raw Cityscapes ids (*_gtFine_labelIds.png), mapped with labels.py; trainIds: already 0-18/255',
    })
    .option('reference', {
      type: 'boolean',
      default: false,
      describe: "reproduce the reference fast_hist bit for bit, quirks included (frames with gt 18 & pred 19 dropped, pred 19 shifted)",
    })
    .option('csv', { type: 'string', describe: 'also write the per-class table to this CSV file' })
    .option('quiet', { type: 'boolean', default: false, describe: 'no progress bar' });
}

async function writeCsv(file: string, text: string): Promise<void> {
  const { writeFileAtomic } = await import('../../util/fs.ts');
  await writeFileAtomic(file, text);
  process.stderr.write(`Wrote ${file}\n`);
}

async function printScores(result: { scores: import('../../eval/scores.ts').FcnScores; confusion: import('../../eval/confusion.ts').ConfusionMatrix }, csv: string | undefined): Promise<void> {
  const [{ TRAIN_ID_NAMES }, report] = await Promise.all([import('../../data/cityscapes.ts'), import('../../eval/report.ts')]);
  process.stdout.write(`${report.formatScores(result.scores, TRAIN_ID_NAMES, result.confusion.frames, result.confusion.droppedFrames)}\n`);
  if (csv) await writeCsv(csv, report.scoresCsv(result.scores, TRAIN_ID_NAMES));
}

export const evalFcnScoreCommand: CommandModule<object, FcnScoreArgs> = {
  command: 'fcn-score',
  describe: 'FCN-score of generated Cityscapes photos (labels→photo, Tables 1-3): segment them and score against ground truth',
  builder: (y) =>
    commonScoreOptions(y)
      .option('segmenter', {
        type: 'string',
        demandOption: true,
        describe: 'segmenter .onnx; its settings come from SEG.onnx.json/.yaml beside it, or from --preset',
      })
      .option('preset', {
        choices: ['fcn8s-cityscapes'],
        describe: 'fcn8s-cityscapes = the reference contract: PIL-bilinear to 2048x1024, BGR, mean (72.78044, 83.21195, 73.45286), 20 outputs, class 19 ignored',
      })
      .option('images', {
        type: 'string',
        demandOption: true,
        describe: 'generated photos (searched recursively), named <id>_leftImg8bit.png or like their label files',
      })
      .example('$0 eval fcn-score --segmenter fcn8s.onnx --preset fcn8s-cityscapes --images results/ --labels cityscapes/gtFine/val', ''),
  handler: async (a) => {
    const [{ loadSegmenterSpec, runSegmenterOnnx }, { runFcnScore }, { ProgressBar }] = await Promise.all([
      import('../../eval/segmenter.ts'),
      import('../../eval/fcn-score.ts'),
      import('../../util/progress.ts'),
    ]);
    const spec = await loadSegmenterSpec(a.segmenter, a.preset);
    const { model, release } = await runSegmenterOnnx(a.segmenter, spec);
    let bar: InstanceType<typeof ProgressBar> | undefined;
    try {
      const result = await runFcnScore({
        imagesDir: a.images,
        labelsDir: a.labels,
        model,
        spec,
        modelName: a.segmenter,
        labelEncoding: a['label-encoding'],
        mode: a.reference ? 'reference' : 'strict',
        onFrame: (done, total) => {
          bar ??= new ProgressBar({ label: 'fcn-score', total, unit: 'img', quiet: a.quiet });
          bar.tick(1);
          if (done === total) bar.finish();
        },
      });
      await printScores(result, a.csv);
    } finally {
      await release();
    }
  },
};

export const evalLabelsCommand: CommandModule<object, LabelsArgs> = {
  command: 'labels',
  describe: 'Score generated colour label maps (photo→labels, Table 6) against ground truth by nearest Cityscapes colour',
  builder: (y) =>
    commonScoreOptions(y)
      .option('pred', { type: 'string', demandOption: true, describe: 'generated colour label maps (searched recursively)' })
      .option('void-colors', {
        choices: ['none', 'black', 'all'] as const,
        default: 'none' as const,
        describe:
          'palette for nearest-colour matching (the authors did not publish theirs): none = the 19 class colours; black = also (0,0,0) → ignore; all = every labels.py colour, void ones → ignore. Ties go to the label defined first (pole, car)',
      })
      .option('resolution', {
        choices: ['label', 'prediction'] as const,
        default: 'label' as const,
        describe: 'score at the label size (prediction upsampled, nearest) or at the prediction size (labels downsampled, nearest); unpublished in the paper',
      }),
  handler: async (a) => {
    const [{ runLabelScore }, { ProgressBar }] = await Promise.all([import('../../eval/label-score.ts'), import('../../util/progress.ts')]);
    let bar: InstanceType<typeof ProgressBar> | undefined;
    const result = await runLabelScore({
      predDir: a.pred,
      labelsDir: a.labels,
      voidColors: a['void-colors'],
      resolution: a.resolution,
      labelEncoding: a['label-encoding'],
      mode: a.reference ? 'reference' : 'strict',
      onFrame: (done, total) => {
        bar ??= new ProgressBar({ label: 'labels', total, unit: 'img', quiet: a.quiet });
        bar.tick(1);
        if (done === total) bar.finish();
      },
    });
    await printScores(result, a.csv);
  },
};

export const evalColorCommand: CommandModule<object, ColorArgs> = {
  command: 'color',
  describe: 'Lab colour-distribution match of generated vs real photos (Figure 7): per-channel histogram intersection',
  builder: (y) =>
    y
      .option('generated', { type: 'string', demandOption: true, describe: 'generated images (searched recursively)' })
      .option('real', { type: 'string', demandOption: true, describe: 'real images (searched recursively), e.g. the val photos resized to 256x256' })
      .option('bins', {
        type: 'number',
        default: 256,
        describe:
          'bins per channel over L [0,100], a [-128,127], b [-128,127]. The paper does not publish its bins or ranges; these defaults are our choice',
      })
      .option('csv', { type: 'string', describe: 'write the intersections and both normalised histograms per channel to this CSV file' })
      .option('quiet', { type: 'boolean', default: false, describe: 'no progress bar' }),
  handler: async (a) => {
    const [{ runColorScore }, report, { ProgressBar }] = await Promise.all([
      import('../../eval/color-score.ts'),
      import('../../eval/report.ts'),
      import('../../util/progress.ts'),
    ]);
    let bar: InstanceType<typeof ProgressBar> | undefined;
    const r = await runColorScore({
      generatedDir: a.generated,
      realDir: a.real,
      bins: a.bins,
      onImage: (done, total) => {
        bar ??= new ProgressBar({ label: 'color', total, unit: 'img', quiet: a.quiet });
        bar.tick(1);
        if (done === total) bar.finish();
      },
    });
    process.stdout.write(`${report.formatColorResult(r.intersections, r.generated, r.real)}\n`);
    if (a.csv) await writeCsv(a.csv, report.colorCsv(r.intersections, r.generated, r.real));
  },
};

/** The sub-commands this file implements, in help order. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const evalSubcommands: CommandModule<any, any>[] = [evalFcnScoreCommand, evalLabelsCommand, evalColorCommand];

/** `pix2pix eval` with this file's sub-commands followed by `extra` (e.g. rf, run). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function buildEvalCommand(extra: CommandModule<any, any>[] = []): CommandModule<object, object> {
  return {
    command: 'eval <command>',
    describe: 'Evaluate results: FCN-score, photo→labels scores, colour statistics',
    builder: (y) => {
      let b = y;
      for (const c of [...evalSubcommands, ...extra]) b = b.command(c);
      return b.demandCommand(1, 'name an eval sub-command: fcn-score, labels, color, rf or run');
    },
    handler: () => undefined,
  };
}

export const evalCommand: CommandModule<object, object> = buildEvalCommand();
