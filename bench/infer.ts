/**
 * Inference benchmark: U-Net-256 (random weights, exported by our exporter) on a folder of 64
 * generated 256×256 images. One JSON line per case (provider, batch size, threads): images/s end to
 * end (`translateFolder`), images/s of `session.run` alone, and peak RSS. Each case runs in its own
 * process so peak RSS is that case's.
 *
 *   npm run bench:infer                      # batch sizes 1, 4, 8
 *   node --import tsx bench/infer.ts --batch 4 --threads 2 --provider cpu --norm running
 *   node --import tsx bench/infer.ts --model other.onnx   # e.g. the PyTorch reference export
 */
import { execFileSync } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { generatorArch, paramSpecs } from '../src/train/nets/arch.ts';
import { initParams } from '../src/train/nets/init.ts';
import { exportConvNetOnnx, generatorSpec } from '../src/export/export.ts';
import type { OnnxNormMode } from '../src/export/graph.ts';
import { openSession } from '../src/runtime/session.ts';
import { translateFolder } from '../src/runtime/translate.ts';
import type { ProviderRequest } from '../src/runtime/providers.ts';
import { Rng } from '../src/util/rng.ts';

const IMAGES = 64;
const SIZE = 256;

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function prepare(dir: string, norm: OnnxNormMode): Promise<{ model: string; images: string }> {
  const model = path.join(dir, `unet256-${norm}.onnx`);
  const images = path.join(dir, 'images');
  const arch = generatorArch({ depth: 8 });
  const rng = new Rng(1);
  const params = initParams(arch, rng);
  // Non-trivial norm statistics so 'running' mode is not an identity.
  for (const p of paramSpecs(arch)) if (p.role === 'running_var') params.get(p.name)!.fill(0.5);
  await fsp.writeFile(model, exportConvNetOnnx(generatorSpec(arch, params, { image_size: String(SIZE), size_multiple: '256' }), { norm }));
  await fsp.mkdir(images, { recursive: true });
  for (let i = 0; i < IMAGES; i++) {
    const px = new Uint8Array(SIZE * SIZE * 3);
    for (let k = 0; k < px.length; k++) px[k] = (k * (i + 3) + ((k / 768) | 0) * 7) & 255;
    await sharp(px, { raw: { width: SIZE, height: SIZE, channels: 3 } }).png().toFile(path.join(images, `${String(i).padStart(3, '0')}.png`));
  }
  return { model, images };
}

async function runCase(model: string, images: string, batch: number, threads: number, provider: ProviderRequest): Promise<void> {
  const session = await openSession(model, { provider, threads, warmup: { batch, size: SIZE } });
  const perRun = session.io.fixedBatch ?? batch;
  const x = new Float32Array(perRun * 3 * SIZE * SIZE).map((_, i) => Math.sin(i) * 0.9);
  const runs = Math.ceil(IMAGES / perRun);
  const t0 = performance.now();
  for (let r = 0; r < runs; r++) await session.run(x, [perRun, 3, SIZE, SIZE]);
  const sessionSeconds = (performance.now() - t0) / 1000;
  const out = await fsp.mkdtemp(path.join(os.tmpdir(), 'p2p-bench-out-'));
  const r = await translateFolder({ model: session, input: images, output: out, batchSize: batch, quiet: true });
  await session.close();
  await fsp.rm(out, { recursive: true, force: true });
  const sessionRate = (runs * perRun) / sessionSeconds;
  const e2eRate = r.translated / r.seconds;
  process.stdout.write(
    `${JSON.stringify({
      bench: 'infer',
      model: path.basename(model),
      provider: session.provider,
      batch: perRun,
      threads,
      images: r.translated,
      e2e_img_per_s: +e2eRate.toFixed(3),
      session_img_per_s: +sessionRate.toFixed(3),
      e2e_over_session: +(e2eRate / sessionRate).toFixed(3),
      session_share_of_e2e_time: +(r.sessionSeconds / r.seconds).toFixed(3),
      peak_rss_mib: Math.round(process.resourceUsage().maxRSS / 1024),
    })}\n`,
  );
}

async function main(): Promise<void> {
  const threads = Number(flag('threads') ?? os.availableParallelism());
  const provider = (flag('provider') ?? 'auto') as ProviderRequest;
  const norm = (flag('norm') ?? 'instance') as OnnxNormMode;
  if (flag('case') !== undefined) {
    await runCase(flag('model')!, flag('images')!, Number(flag('case')), threads, provider);
    return;
  }
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'p2p-bench-'));
  try {
    const made = await prepare(dir, norm);
    const model = flag('model') ?? made.model;
    const batches = flag('batch') ? [Number(flag('batch'))] : [1, 4, 8];
    for (const b of batches) {
      const args = ['--import', 'tsx', process.argv[1]!, '--case', String(b), '--model', model, '--images', made.images, '--threads', String(threads), '--provider', provider];
      process.stdout.write(execFileSync(process.execPath, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }));
    }
  } finally {
    await fsp.rm(dir, { recursive: true, force: true });
  }
}

await main();
