/**
 * Inference benchmark: U-Net-256 (random weights, exported by our exporter) translating folders of
 * generated images, one JSON line per case:
 * - square: 64 images of 256×256 at batch 1, 4, 8;
 * - native: 8 images of 640×480, each run at its own size (padded to 768×512);
 * - tiled: 2 images of 1024×768 in 256×256 tiles overlapping 64 (20 tiles each).
 * Each case compares end-to-end images/s (`translateFolder`) with `session.run` alone on the same
 * input shapes, measured alternately `--reps` times in one process (the median ratio is robust to
 * a machine shared with other work), plus where the JS thread's time went, and peak RSS (each case
 * runs in its own process). A `spinning` case repeats batch 8 with onnxruntime's idle threads
 * spin-waiting (its default; ours is off), so its session.run figure is there to compare against.
 *
 *   npm run bench:infer                      # all cases, then the PyTorch peer
 *   node --import tsx bench/infer.ts --batch 4 --threads 2 --provider cpu --norm running --reps 5
 *   node --import tsx bench/infer.ts --model other.onnx   # e.g. the PyTorch reference export (square only)
 *   node --import tsx bench/infer.ts --batch 8 --scale 0.25 --reps 1 --no-peer   # a quick look
 *   node --import tsx bench/infer.ts --batch 8 --extra spinning --no-peer          # only the ratio cases
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
import { padPlan } from '../src/runtime/native-size.ts';
import { planTiles, tileCount } from '../src/runtime/tiles.ts';

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

// --size S and --ngf N shrink the square case's model (the GPU check's quick mode runs on a software adapter).
const SIZE = Number(flag('size') ?? 256);
const NGF = Number(flag('ngf') ?? 64);
type Mode = 'square' | 'native' | 'tiled';
/** `--scale F` multiplies the image counts (e.g. 0.25 for a quick look). */
const SCALE = Number(process.argv[process.argv.indexOf('--scale') + 1] ?? 1) || 1;
const count = (n: number): number => Math.max(1, Math.round(n * (process.argv.includes('--scale') ? SCALE : 1)));
const WORKLOADS: Record<Mode, { images: number; width: number; height: number }> = {
  square: { images: count(64), width: SIZE, height: SIZE },
  native: { images: count(8), width: 640, height: 480 },
  tiled: { images: count(2), width: 1024, height: 768 },
};
const TILE = 256;
const OVERLAP = 64;

async function writeImages(dir: string, w: { images: number; width: number; height: number }): Promise<void> {
  await fsp.mkdir(dir, { recursive: true });
  for (let i = 0; i < w.images; i++) {
    const px = new Uint8Array(w.width * w.height * 3);
    for (let k = 0; k < px.length; k++) px[k] = (k * (i + 3) + ((k / (w.width * 3)) | 0) * 7) & 255;
    await sharp(px, { raw: { width: w.width, height: w.height, channels: 3 } })
      .png()
      .toFile(path.join(dir, `${String(i).padStart(3, '0')}.png`));
  }
}

async function prepare(dir: string, norm: OnnxNormMode): Promise<{ model: string; images: Record<Mode, string> }> {
  const model = path.join(dir, `unet${SIZE}-ngf${NGF}-${norm}.onnx`);
  const arch = generatorArch({ depth: Math.log2(SIZE), ngf: NGF });
  const rng = new Rng(1);
  const params = initParams(arch, rng);
  // Non-trivial norm statistics so 'running' mode is not an identity.
  for (const p of paramSpecs(arch)) if (p.role === 'running_var') params.get(p.name)!.fill(0.5);
  await fsp.writeFile(model, exportConvNetOnnx(generatorSpec(arch, params, { image_size: String(SIZE), size_multiple: String(SIZE) }), { norm }));
  const images = {} as Record<Mode, string>;
  for (const m of Object.keys(WORKLOADS) as Mode[]) {
    images[m] = path.join(dir, `images-${m}`);
    await writeImages(images[m], WORKLOADS[m]);
  }
  return { model, images };
}

/** The batches translateFolder forms for `n` equal pieces: full ones, then the rest. */
function batchesOf(n: number, batch: number): number[] {
  return [...Array<number>(Math.floor(n / batch)).fill(batch), ...(n % batch ? [n % batch] : [])];
}

/** The session.run calls (their dims) that a mode's folder amounts to. */
function sessionWork(mode: Mode, batch: number, multiple: number): { runs: number[][]; images: number } {
  const w = WORKLOADS[mode];
  if (mode === 'square') return { runs: batchesOf(w.images, batch).map((b) => [b, 3, SIZE, SIZE]), images: w.images };
  if (mode === 'native') {
    const p = padPlan(w.width, w.height, multiple);
    return { runs: batchesOf(w.images, batch).map((b) => [b, 3, p.paddedHeight, p.paddedWidth]), images: w.images };
  }
  // Tiles of every image share one shape group, so batches run across image boundaries.
  const tiles = tileCount(planTiles(w.width, w.height, multiple, TILE, OVERLAP));
  return { runs: batchesOf(w.images * tiles, batch).map((b) => [b, 3, TILE, TILE]), images: w.images };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

async function runCase(
  model: string,
  images: string,
  mode: Mode,
  batch: number,
  threads: number,
  provider: ProviderRequest,
  spinning: boolean,
  reps: number,
): Promise<void> {
  const session = await openSession(model, { provider, threads, spinning, warmup: { batch, size: SIZE } });
  const perRun = session.io.fixedBatch ?? batch;
  const work = sessionWork(mode, perRun, session.io.sizeMultiple);
  const inputs = work.runs.map((dims) => ({ dims, data: new Float32Array(dims.reduce((a, b) => a * b, 1)).map((_, i) => Math.sin(i) * 0.9) }));
  for (const x of new Map(inputs.map((x) => [x.dims.join('x'), x])).values()) await session.run(x.data, x.dims); // warm each shape
  const sessionRates: number[] = [];
  const e2eRates: number[] = [];
  let last: Awaited<ReturnType<typeof translateFolder>> | undefined;
  // Alternate the two measurements so load from other processes hits both alike.
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    for (const x of inputs) await session.run(x.data, x.dims);
    sessionRates.push(work.images / ((performance.now() - t0) / 1000));
    const out = await fsp.mkdtemp(path.join(os.tmpdir(), 'p2p-bench-out-'));
    last = await translateFolder({
      model: session,
      input: images,
      output: out,
      batchSize: batch,
      quiet: true,
      ...(mode === 'square' ? { size: SIZE } : mode === 'tiled' ? { tile: TILE, overlap: OVERLAP } : {}),
    });
    await fsp.rm(out, { recursive: true, force: true });
    e2eRates.push(last.translated / last.seconds);
  }
  await session.close();
  const ratios = e2eRates.map((e, i) => e / sessionRates[i]);
  const w = WORKLOADS[mode];
  const st = last!.stageSeconds;
  const share = (v: number): number => +(v / last!.seconds).toFixed(3);
  process.stdout.write(
    `${JSON.stringify({
      bench: 'infer',
      mode,
      image: `${w.width}x${w.height}`,
      ...(mode === 'tiled' ? { tile: TILE, overlap: OVERLAP } : {}),
      model: path.basename(model),
      provider: session.provider,
      batch: perRun,
      threads,
      ort_spinning: spinning,
      images: last!.translated,
      reps,
      e2e_img_per_s: +median(e2eRates).toFixed(3),
      e2e_mpx_per_s: +((median(e2eRates) * w.width * w.height) / 1e6).toFixed(3),
      session_img_per_s: +median(sessionRates).toFixed(3),
      e2e_over_session: +median(ratios).toFixed(3),
      e2e_over_session_each: ratios.map((v) => +v.toFixed(3)),
      js_thread_share: {
        session_run: share(last!.sessionSeconds),
        decode_wait: share(st.decodeWait),
        to_tensor: share(st.toTensor),
        from_tensor: share(st.fromTensor),
        encode_wait: share(st.encodeWait),
      },
      peak_rss_mib: Math.round(process.resourceUsage().maxRSS / 1024),
    })}\n`,
  );
}

import { parsePeerLine, PEER_DIR, peerAvailable, runPeer } from './peer.ts';

async function main(): Promise<void> {
  const threads = Number(flag('threads') ?? os.availableParallelism());
  const provider = (flag('provider') ?? 'auto') as ProviderRequest;
  const norm = (flag('norm') ?? 'instance') as OnnxNormMode;
  const reps = Number(flag('reps') ?? 3);
  if (flag('case') !== undefined) {
    await runCase(flag('model')!, flag('images')!, flag('mode') as Mode, Number(flag('case')), threads, provider, flag('spinning') === 'true', reps);
    return;
  }
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'p2p-bench-'));
  try {
    const made = await prepare(dir, norm);
    const model = flag('model') ?? made.model;
    const batches = flag('batch') ? [Number(flag('batch'))] : [1, 4, 8];
    const runCaseProcess = (m: string, b: number, mode: Mode = 'square', spinning = false): Record<string, unknown> => {
      const args = [
        '--import',
        'tsx',
        process.argv[1],
        '--case',
        String(b),
        '--mode',
        mode,
        '--model',
        m,
        '--images',
        made.images[mode],
        '--threads',
        String(threads),
        '--provider',
        provider,
        '--spinning',
        String(spinning),
        '--reps',
        String(reps),
        '--size',
        String(SIZE),
        '--ngf',
        String(NGF),
        ...(flag('scale') ? ['--scale', flag('scale')!] : []),
      ];
      const out = execFileSync(process.execPath, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
      process.stdout.write(out);
      return JSON.parse(out.trim().split('\n').at(-1)!) as Record<string, unknown>;
    };
    const ours = batches.map((b) => runCaseProcess(model, b));
    const big = Math.max(...batches);
    // --extra spinning,native,tiled (default all) picks the cases beside the square batches.
    const extra = (flag('extra') ?? 'spinning,native,tiled').split(',');
    if (!flag('model')) {
      if (extra.includes('spinning')) runCaseProcess(model, big, 'square', true);
      if (extra.includes('native')) runCaseProcess(model, big, 'native');
      if (extra.includes('tiled')) runCaseProcess(model, big, 'tiled');
    }
    if (!process.argv.includes('--no-peer') && peerAvailable()) {
      // The PyTorch reference in the same run: eager generator (train mode = the paper's test-time
      // semantics, and eval mode), and onnxruntime on PyTorch's own export, batch 1.
      const eager = (mode: string): number =>
        Number.parseFloat(parsePeerLine(runPeer('bench_gen.py', ['1', mode, '10', '2']).trim().split('\n').at(-1)!)['img/s'] ?? '');
      const eagerTrain = eager('train');
      const eagerEval = eager('eval');
      const peerDir = path.join(dir, 'peer');
      await fsp.mkdir(peerDir);
      execFileSync('/usr/bin/python3', [path.join(PEER_DIR, 'export_onnx.py')], {
        env: { ...process.env, PEER_OUT: peerDir },
        stdio: ['ignore', 'ignore', 'inherit'],
      });
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
