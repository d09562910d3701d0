/**
 * Evaluation instruments, one JSON line per case:
 * - confusion: accumulating the 19×19 matrix over 500 label/prediction pairs at 1024×2048 (the
 *   FCN-score workload without the segmenter); the maps are generated once and reused.
 * - lab-histograms: pooled L/a/b histograms of 500 generated + 500 real 256×256 images.
 * - pil-upsample: one 256×256 → 2048×1024 PIL-bilinear upsampling (the FCN-score resize).
 * Run: node --import tsx bench/eval.ts [--frames 500]
 */
import { accumulateConfusion, createConfusion, type ConfusionMode } from '../src/eval/confusion.ts';
import { addImageToLabHistograms, createLabHistograms, labIntersections } from '../src/eval/color.ts';
import { resizePilBilinear } from '../src/data/resize.ts';
import { Rng } from '../src/util/rng.ts';

const framesArg = process.argv.indexOf('--frames');
const FRAMES = framesArg > 0 ? Number(process.argv[framesArg + 1]) : 500;

/** Blocky label maps (Cityscapes-like regions) with a noisy prediction, plus 5% ignored pixels. */
function makeFramePair(rng: Rng, width: number, height: number): { gt: Uint8Array; pred: Uint8Array } {
  const gt = new Uint8Array(width * height);
  const pred = new Uint8Array(width * height);
  const block = 32;
  for (let by = 0; by < height; by += block) {
    for (let bx = 0; bx < width; bx += block) {
      const cls = rng.int(20) === 0 ? 255 : rng.int(19);
      for (let y = by; y < Math.min(height, by + block); y++) gt.fill(cls, y * width + bx, y * width + Math.min(width, bx + block));
    }
  }
  for (let i = 0; i < gt.length; i++) pred[i] = rng.int(4) === 0 ? rng.int(19) : gt[i] === 255 ? 0 : gt[i];
  return { gt, pred };
}

function emit(o: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(o)}\n`);
}

function benchConfusion(mode: ConfusionMode): void {
  const rng = new Rng(1);
  const pairs = Array.from({ length: 4 }, () => makeFramePair(rng, 2048, 1024));
  const conf = createConfusion();
  for (const p of pairs) accumulateConfusion(conf, p.gt, p.pred, { mode }); // warm-up (JIT)
  const t0 = performance.now();
  for (let f = 0; f < FRAMES; f++) {
    const p = pairs[f % pairs.length];
    accumulateConfusion(conf, p.gt, p.pred, { mode });
  }
  const seconds = (performance.now() - t0) / 1000;
  emit({
    case: 'confusion',
    mode,
    frames: FRAMES,
    width: 2048,
    height: 1024,
    seconds: +seconds.toFixed(3),
    mpixelsPerSecond: +((FRAMES * 2048 * 1024) / seconds / 1e6).toFixed(1),
  });
}

function benchLab(): void {
  const rng = new Rng(2);
  const images = Array.from({ length: 8 }, () => {
    const img = new Uint8Array(256 * 256 * 3);
    for (let i = 0; i < img.length; i++) img[i] = rng.int(256);
    return img;
  });
  const gen = createLabHistograms();
  const real = createLabHistograms();
  addImageToLabHistograms(createLabHistograms(), images[0]); // warm-up
  const t0 = performance.now();
  for (let f = 0; f < FRAMES; f++) {
    addImageToLabHistograms(gen, images[f % images.length]);
    addImageToLabHistograms(real, images[(f + 3) % images.length]);
  }
  const hi = labIntersections(gen, real);
  const seconds = (performance.now() - t0) / 1000;
  emit({ case: 'lab-histograms', pairs: FRAMES, width: 256, height: 256, bins: 256, seconds: +seconds.toFixed(3), intersectionL: +hi.L.toFixed(4) });
}

function benchUpsample(): void {
  const rng = new Rng(3);
  const img = new Uint8Array(256 * 256 * 3);
  for (let i = 0; i < img.length; i++) img[i] = rng.int(256);
  const src = { width: 256, height: 256, data: img };
  resizePilBilinear(src, 2048, 1024);
  const reps = 10;
  const t0 = performance.now();
  for (let r = 0; r < reps; r++) resizePilBilinear(src, 2048, 1024);
  const seconds = (performance.now() - t0) / 1000 / reps;
  emit({ case: 'pil-upsample', from: '256x256', to: '2048x1024', secondsPerImage: +seconds.toFixed(4) });
}

benchConfusion('strict');
benchConfusion('reference');
benchLab();
benchUpsample();
