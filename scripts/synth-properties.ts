/**
 * Design measurements of the synthetic scenes and of the judge trained on them (docs/statistics.md).
 *
 *   colour   How far colour alone separates the classes: the nearest-class-mean-colour classifier,
 *            fit on the train scenes and scored on the test scenes of the quick profiles' dataset
 *            (rendered in memory), per pixel and after an 8× shrink-enlarge (region colours).
 *   blur     The judge's FCN-score on the real test photos, Gaussian-blurred (--sigma) and
 *            shrunk-enlarged (--shrink), with frame-bootstrap intervals of the ratios.
 *   sigma    The Gaussian σ whose blur of the real photos leaves as much edge energy (mean squared
 *            luminance gradient) as a generator's outputs of the same scenes have.
 *
 * Run: node --import tsx scripts/synth-properties.ts colour [--count 340 --size 128 --seed 1]
 *      node --import tsx scripts/synth-properties.ts blur --data DIR --segmenter seg.onnx [--sigma 2.5] [--shrink 8]
 *      node --import tsx scripts/synth-properties.ts sigma --real DIR --generated DIR
 */
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { TRAIN_ID_NAMES } from '../src/data/cityscapes.ts';
import { readImage, listImages } from '../src/data/image.ts';
import { SYNTH_GENERATOR_VERSION, renderSynthScene, splitCounts } from '../src/data/synth.ts';
import { runBlurCheck } from '../src/eval/blur-check.ts';
import { L1_BLUR_SIGMA } from '../src/eval/blur-reference.ts';
import { addClassColors, accumulateNearestMeanColor, classMeanColors, createClassColorSums } from '../src/eval/color-separability.ts';
import { createConfusion, type ConfusionMatrix } from '../src/eval/confusion.ts';
import { bootstrapFrames } from '../src/eval/frame-bootstrap.ts';
import { labelIdsToTrainIds } from '../src/eval/labels.ts';
import { frameId } from '../src/eval/pairing.ts';
import { fcnScores } from '../src/eval/scores.ts';
import { loadSegmenterSpec, runSegmenterOnnx } from '../src/eval/segmenter.ts';
import { gaussianBlurRgb, meanGradientEnergy, shrinkEnlargeRgb } from '../src/image/blur.ts';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    count: { type: 'string', default: '340' },
    size: { type: 'string', default: '128' },
    seed: { type: 'string', default: '1' },
    data: { type: 'string' },
    segmenter: { type: 'string' },
    // The σ of the results tables' blurred row (at 128²).
    sigma: { type: 'string', default: String(L1_BLUR_SIGMA) },
    shrink: { type: 'string', default: '8' },
    real: { type: 'string' },
    generated: { type: 'string' },
  },
});

function fail(message: string): never {
  console.error(`synth-properties: ${message}`);
  process.exit(2);
}

const fmt = (x: number): string => x.toFixed(3);
const interval = (b: { value: number; lo: number; hi: number }): string => `${fmt(b.value)} [${fmt(b.lo)}, ${fmt(b.hi)}]`;

async function colour(): Promise<void> {
  const count = Number(values.count);
  const size = Number(values.size);
  const seed = Number(values.seed);
  // The quick profiles' splits: 45% train, 5% val, 50% test.
  const n = splitCounts(count, { train: 0.45, val: 0.05, test: 0.5 });
  const t0 = performance.now();
  const sums = createClassColorSums();
  for (let i = 0; i < n.train; i++) {
    const s = renderSynthScene(seed, i, size);
    addClassColors(sums, s.photo.data, labelIdsToTrainIds(s.labelIds.data));
  }
  const means = classMeanColors(sums);
  const perPixel: ConfusionMatrix[] = [];
  const perRegion: ConfusionMatrix[] = [];
  for (let i = count - n.test; i < count; i++) {
    const s = renderSynthScene(seed, i, size);
    const gt = labelIdsToTrainIds(s.labelIds.data);
    const a = createConfusion();
    accumulateNearestMeanColor(a, s.photo.data, gt, means);
    perPixel.push(a);
    const b = createConfusion();
    accumulateNearestMeanColor(b, shrinkEnlargeRgb(s.photo, 8).data, gt, means);
    perRegion.push(b);
  }
  const seconds = (performance.now() - t0) / 1000;
  const stat = (key: 'pixelAcc' | 'meanClassAcc') => (c: ConfusionMatrix[]) => fcnScores(c[0])[key];
  const report = {
    generatorVersion: SYNTH_GENERATOR_VERSION,
    dataset: { count, size, seed, fit: n.train, scored: n.test },
    nearestMeanColour: { pixelAcc: bootstrapFrames([perPixel], stat('pixelAcc')), classAcc: bootstrapFrames([perPixel], stat('meanClassAcc')) },
    nearestMeanColourShrunk8: { pixelAcc: bootstrapFrames([perRegion], stat('pixelAcc')), classAcc: bootstrapFrames([perRegion], stat('meanClassAcc')) },
    renderedImagesPerSecond: (n.train + n.test) / seconds,
  };
  console.log(JSON.stringify(report));
  console.log(
    `synth v${SYNTH_GENERATOR_VERSION}, fit on ${n.train} train scenes, scored on ${n.test} test scenes (${size}², seed ${seed}); 95% frame-bootstrap intervals\n` +
      `nearest class-mean colour, per pixel:      per-pixel ${interval(report.nearestMeanColour.pixelAcc)}, per-class ${interval(report.nearestMeanColour.classAcc)}\n` +
      `nearest class-mean colour, 8× shrunk:      per-pixel ${interval(report.nearestMeanColourShrunk8.pixelAcc)}, per-class ${interval(report.nearestMeanColourShrunk8.classAcc)}\n` +
      `${report.renderedImagesPerSecond.toFixed(1)} scenes/s rendered and classified`,
  );
}

async function blur(): Promise<void> {
  if (!values.data || !values.segmenter) fail('blur needs --data DIR (a synthetic dataset) and --segmenter seg.onnx');
  const spec = await loadSegmenterSpec(values.segmenter);
  const { model, release } = await runSegmenterOnnx(values.segmenter, spec);
  try {
    const r = await runBlurCheck({
      imagesDir: path.join(values.data, 'leftImg8bit', 'test'),
      labelsDir: path.join(values.data, 'gtFine', 'test'),
      model,
      spec,
      modelName: values.segmenter,
      sigma: Number(values.sigma),
      shrinkFactor: Number(values.shrink),
    });
    console.log(
      JSON.stringify({
        ...r,
        scores: Object.fromEntries(
          Object.entries(r.scores).map(([k, s]) => [k, { pixelAcc: s.pixelAcc, meanClassAcc: s.meanClassAcc, meanClassIoU: s.meanClassIoU }]),
        ),
      }),
    );
    const row = (name: string, s: (typeof r.scores)['groundTruth']) =>
      `${name.padEnd(28)} per-pixel ${fmt(s.pixelAcc)}  per-class ${fmt(s.meanClassAcc)}  IoU ${fmt(s.meanClassIoU)}`;
    console.log(
      [
        `${r.frames} test photos; 95% frame-bootstrap intervals (${r.classAccRatio.blurred.resamples} resamples)`,
        row('ground truth', r.scores.groundTruth),
        row(`Gaussian blur σ ${r.sigma}`, r.scores.blurred),
        row(`shrunk ${r.shrinkFactor}× and enlarged`, r.scores.shrunk),
        `blurred / ground truth: per-class ${interval(r.classAccRatio.blurred)}, per-pixel ${interval(r.pixelAccRatio.blurred)}`,
        `shrunk / ground truth:  per-class ${interval(r.classAccRatio.shrunk)}, per-pixel ${interval(r.pixelAccRatio.shrunk)}`,
        `target blurred ≤ 0.75 × ground truth per class: ${r.passes ? 'met' : 'NOT met'}`,
        'per class (ground truth / blurred / shrunk):',
        ...TRAIN_ID_NAMES.map(
          (name, c) =>
            `  ${name.padEnd(14)} ${fmt(r.scores.groundTruth.classAcc[c])} / ${fmt(r.scores.blurred.classAcc[c])} / ${fmt(r.scores.shrunk.classAcc[c])}`,
        ),
      ].join('\n'),
    );
  } finally {
    await release();
  }
}

async function sigma(): Promise<void> {
  if (!values.real || !values.generated) fail('sigma needs --real DIR and --generated DIR (images named by the same frame ids)');
  const realDir = values.real;
  const real = new Map((await listImages(realDir)).map((f) => [frameId(f), path.join(realDir, f)]));
  const sigmas = Array.from({ length: 16 }, (_, i) => 0.25 * (i + 1));
  let generated = 0;
  const blurred = new Float64Array(sigmas.length);
  let sharp = 0;
  let n = 0;
  for (const name of await listImages(values.generated)) {
    const g = path.join(values.generated, name);
    const r = real.get(frameId(name));
    if (!r) continue;
    const [gi, ri] = await Promise.all([readImage(g), readImage(r)]);
    generated += meanGradientEnergy(gi);
    sharp += meanGradientEnergy(ri);
    sigmas.forEach((s, k) => (blurred[k] += meanGradientEnergy(gaussianBlurRgb(ri, s))));
    n++;
  }
  if (n === 0) fail('no generated image has a real photo with the same frame id');
  let best = 0;
  for (let k = 1; k < sigmas.length; k++) if (Math.abs(blurred[k] - generated) < Math.abs(blurred[best] - generated)) best = k;
  console.log(`${n} image pairs; mean squared luminance gradient: real ${fmt(sharp / n)}, generated ${fmt(generated / n)}`);
  console.log(sigmas.map((s, k) => `σ ${s}: ${fmt(blurred[k] / n)}`).join(', '));
  console.log(`matching σ: ${sigmas[best]}`);
}

const commands: Record<string, () => Promise<void>> = { colour, blur, sigma };
const run = commands[positionals[0] ?? ''];
if (!run) fail('name a measurement: colour, blur or sigma (see the comment at the top of scripts/synth-properties.ts)');
await run();
