/**
 * What tiling does to a deep U-Net's output, and what blending does about the seams. A unet_256
 * architecture (depth 8; ngf 16 to keep it quick; random weights; per-image statistics as our default
 * export, or running BN statistics with --running) translates
 * one 768×512 image whole (native size) and in 256×256 tiles overlapping 64, blended with the
 * raised-cosine window and with a hard cut mid-overlap. Prints one JSON line per variant:
 * - content change vs the whole image: max and mean |tiled − whole| (levels of 255);
 * - seam visibility: how much (tiled − whole), averaged over 16-pixel runs along a line, jumps
 *   between neighbouring lines at the seams (the middle of each overlap, where a hard cut switches
 *   tile), against the same jump over all neighbouring lines. A ratio near 1 means no visible seam.
 *
 *   node --import tsx bench/tile-seams.ts [--tile 256 --overlap 64 --ngf 16 --weight-scale 0.05 --running]
 */
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { generatorArch, paramSpecs } from '../src/nets/arch.ts';
import { initParams } from '../src/train/nets/init.ts';
import { exportConvNetOnnx, generatorSpec } from '../src/export/export.ts';
import { openSession } from '../src/runtime/session.ts';
import { translateFolder } from '../src/runtime/translate.ts';
import { planTiles } from '../src/runtime/tiles.ts';
import { Rng } from '../src/util/rng.ts';

function flag(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
}

const [W, H] = [768, 512];
const tile = flag('tile', 256);
const overlap = flag('overlap', 64);
const ngf = flag('ngf', 16);
const weightScale = flag('weight-scale', 0.05);
const norm = process.argv.includes('--running') ? 'running' : 'instance';

async function main(): Promise<void> {
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'p2p-seams-'));
  try {
    const arch = generatorArch({ depth: 8, ngf });
    const rng = new Rng(7);
    // Weights larger than training's init, and random BN statistics, so deep layers matter.
    const params = initParams(arch, rng, weightScale);
    for (const p of paramSpecs(arch)) {
      const a = params.get(p.name)!;
      if (p.role === 'running_var') a.forEach((_, i) => (a[i] = 0.5 + rng.next()));
      else if (p.role === 'running_mean' || p.role === 'beta') a.forEach((_, i) => (a[i] = 0.1 * rng.normal()));
    }
    const model = path.join(dir, 'g.onnx');
    await fsp.writeFile(model, exportConvNetOnnx(generatorSpec(arch, params, { size_multiple: '256' }), { norm }));
    const input = path.join(dir, 'in');
    await fsp.mkdir(input);
    // A smooth scene with texture: gradients, blobs and stripes.
    const px = new Uint8Array(W * H * 3);
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++)
        for (let c = 0; c < 3; c++)
          px[(y * W + x) * 3 + c] = Math.max(
            0,
            Math.min(255, 128 + 80 * Math.sin(x / (40 + 10 * c)) * Math.cos(y / 55) + 30 * Math.sin((x + y) / 9) + ((x * y * (c + 1)) % 17)),
          );
    await sharp(px, { raw: { width: W, height: H, channels: 3 } })
      .png()
      .toFile(path.join(input, 'scene.png'));
    const session = await openSession(model, { provider: 'cpu' });
    const run = async (name: string, extra: Record<string, unknown>): Promise<Uint8Array> => {
      const out = path.join(dir, name);
      await translateFolder({ model: session, input, output: out, quiet: true, batchSize: 4, ...extra });
      const { data } = await sharp(path.join(out, 'scene.png')).raw().toBuffer({ resolveWithObject: true });
      return new Uint8Array(data);
    };
    const whole = await run('whole', {});
    const plan = planTiles(W, H, 256, tile, overlap);
    // Seam lines: the middle of each overlap, in image coordinates.
    const mids = (starts: number[], offset: number): number[] => starts.slice(1).map((s, i) => Math.round((s + starts[i] + tile) / 2) - offset);
    const seamCols = mids(plan.xs, plan.pad.left).filter((c) => c > 0 && c < W);
    const seamRows = mids(plan.ys, plan.pad.top).filter((r) => r > 0 && r < H);
    // The jump of (tiled − whole) between neighbouring pixels across the given lines: a seam is where
    // the error switches from one tile's to the next one's.
    const SEG = 16;
    const jump = (img: Uint8Array, cols: number[], rows: number[]): number => {
      const d = (i: number): number => img[i] - whole[i];
      let sum = 0;
      let n = 0;
      // Averaged over 16-pixel runs along the line, so pixel noise cancels and per-tile shifts stay.
      for (const c of cols)
        for (let y0 = 0; y0 + SEG <= H; y0 += SEG)
          for (let ch = 0; ch < 3; ch++, n++) {
            let acc = 0;
            for (let y = y0; y < y0 + SEG; y++) acc += d((y * W + c) * 3 + ch) - d((y * W + c - 1) * 3 + ch);
            sum += Math.abs(acc / SEG);
          }
      for (const r of rows)
        for (let x0 = 0; x0 + SEG <= W; x0 += SEG)
          for (let ch = 0; ch < 3; ch++, n++) {
            let acc = 0;
            for (let x = x0; x < x0 + SEG; x++) acc += d((r * W + x) * 3 + ch) - d(((r - 1) * W + x) * 3 + ch);
            sum += Math.abs(acc / SEG);
          }
      return sum / n;
    };
    const allCols = Array.from({ length: W - 1 }, (_, i) => i + 1);
    const allRows = Array.from({ length: H - 1 }, (_, i) => i + 1);
    const report = (variant: string, img: Uint8Array): void => {
      let max = 0;
      let sum = 0;
      for (let i = 0; i < img.length; i++) {
        const d = Math.abs(img[i] - whole[i]);
        max = Math.max(max, d);
        sum += d;
      }
      const atSeams = jump(img, seamCols, seamRows);
      const everywhere = jump(img, allCols, allRows);
      process.stdout.write(
        `${JSON.stringify({
          bench: 'tile-seams',
          variant,
          image: `${W}x${H}`,
          tile,
          overlap,
          net: `unet_256 (depth 8, ngf ${ngf}, random weights of std ${weightScale}, ${norm === 'running' ? 'running BN statistics' : 'instance statistics (our default export)'})`,
          seams: { columns: seamCols, rows: seamRows },
          max_abs_diff_vs_whole: max,
          mean_abs_diff_vs_whole: +(sum / img.length).toFixed(3),
          seam_jump: +atSeams.toFixed(3),
          typical_jump: +everywhere.toFixed(3),
          seam_jump_over_typical: everywhere > 0 ? +(atSeams / everywhere).toFixed(2) : null,
        })}\n`,
      );
    };
    report('tiles, raised-cosine blend', await run('cosine', { tile, overlap }));
    report('tiles, hard cut (no blend)', await run('none', { tile, overlap, tileBlend: 'none' }));
    await session.close();
  } finally {
    await fsp.rm(dir, { recursive: true, force: true });
  }
}

await main();
