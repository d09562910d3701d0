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
import { generatorArch, paramSpecs } from '../src/nets/arch.ts';
import { initParams } from '../src/train/nets/init.ts';
import { exportConvNetOnnx, generatorSpec } from '../src/export/export.ts';
import type { OnnxNormMode } from '../src/onnx/graph.ts';
import { openSession } from '../src/runtime/session.ts';
import { translateFolder } from '../src/runtime/translate.ts';
import type { ProviderRequest } from '../src/runtime/providers.ts';
import { Rng } from '../src/util/rng.ts';

// --count N and --size S shrink the case (the GPU check's quick mode runs on a software adapter).
const IMAGES = Number(flag('count') ?? 64);
const SIZE = Number(flag('size') ?? 256);
const NGF = Number(flag('ngf') ?? 64);

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function prepare(dir: string, norm: OnnxNormMode): Promise<{ model: string; images: string }> {
  const model = path.join(dir, `unet${SIZE}-${norm}.onnx`);
  const images = path.join(dir, 'images');
  const arch = generatorArch({ depth: Math.log2(SIZE), ngf: NGF });
  const rng = new Rng(1);
  const params = initParams(arch, rng);
  // Non-trivial norm statistics so 'running' mode is not an identity.
  for (const p of paramSpecs(arch)) if (p.role === 'running_var') params.get(p.name)!.fill(0.5);
  await fsp.writeFile(model, exportConvNetOnnx(generatorSpec(arch, params, { image_size: String(SIZE), size_multiple: String(SIZE) }), { norm }));
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
      size: SIZE,
      ngf: NGF,
      provider: session.provider,
      device: session.device ?? null,
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

import { parsePeerLine, PEER_DIR, peerAvailable, runPeer } from './peer.ts';

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
    const runCaseProcess = (m: string, b: number): Record<string, unknown> => {
      const args = ['--import', 'tsx', process.argv[1]!, '--case', String(b), '--model', m, '--images', made.images, '--threads', String(threads), '--provider', provider, '--size', String(SIZE), '--count', String(IMAGES), '--ngf', String(NGF)];
      const out = execFileSync(process.execPath, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
      process.stdout.write(out);
      return JSON.parse(out.trim().split('\n').at(-1)!) as Record<string, unknown>;
    };
    const ours = batches.map((b) => runCaseProcess(model, b));
    if (!process.argv.includes('--no-peer') && peerAvailable()) {
      // The PyTorch reference in the same run: eager generator (train mode = the paper's test-time
      // semantics, and eval mode), and onnxruntime on PyTorch's own export, batch 1.
      const eager = (mode: string): number => Number.parseFloat(parsePeerLine(runPeer('bench_gen.py', ['1', mode, '10', '2']).trim().split('\n').at(-1)!)['img/s'] ?? '');
      const eagerTrain = eager('train');
      const eagerEval = eager('eval');
      const peerDir = path.join(dir, 'peer');
      await fsp.mkdir(peerDir);
      execFileSync('/usr/bin/python3', [path.join(PEER_DIR, 'export_onnx.py')], { env: { ...process.env, PEER_OUT: peerDir }, stdio: ['ignore', 'ignore', 'inherit'] });
      const ortOnPeer = runCaseProcess(path.join(peerDir, 'unet256.onnx'), 1);
      const ours1 = ours.find((o) => o.batch === 1);
      const best = Math.max(...ours.map((o) => Number(o.session_img_per_s)));
      process.stdout.write(
        `${JSON.stringify({
          bench: 'infer-peer',
          pytorch_eager_train_mode_img_per_s: eagerTrain,
          pytorch_eager_eval_mode_img_per_s: eagerEval,
          ort_on_pytorch_export_session_img_per_s: ortOnPeer.session_img_per_s,
          ours_batch1_session_img_per_s: ours1?.session_img_per_s,
          ours_best_session_img_per_s: best,
          ratio_ours_batch1_session_vs_eager_train: ours1 ? Number((Number(ours1.session_img_per_s) / eagerTrain).toFixed(2)) : null,
          ratio_ours_best_session_vs_eager_train: Number((best / eagerTrain).toFixed(2)),
        })}\n`,
      );
    }
  } finally {
    await fsp.rm(dir, { recursive: true, force: true });
  }
}

await main();
