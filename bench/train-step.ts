/**
 * Training-step benchmark: median ms per full pix2pix step (G and D updates) at 64², 128², 256², beside the
 * PyTorch reference step (bench_train.py in the peer folder, see ./peer.ts) at the same thread count, run in the same
 * process tree and interleaved with ours (the host may be shared: compare ratios, not absolute times).
 *
 *   node --import tsx bench/train-step.ts [--engines wasm,ort-cpu:1,ort-cpu:2] [--sizes 64,128,256] [--steps 5] [--warmup 2] [--no-peer]
 *
 * Each `engine[:threads]` case runs in its own process (so peak RSS is its own). A single-threaded
 * engine is compared with PyTorch at 1 thread. Prints one JSON line per (size, case).
 */
import { spawnSync } from 'node:child_process';
import { trainingEnv } from '../src/util/malloc-tunables.ts';
import * as tf from '../src/train/tfjs.ts';
import { selectEngine, type EngineName } from '../src/train/engines/registry.ts';
import { discriminatorArch, generatorArch } from '../src/nets/arch.ts';
import { Pix2PixModel, Pix2PixStep } from '../src/train/model.ts';
import { Rng } from '../src/util/rng.ts';
import { parsePeerLine, peerAvailable, runPeer } from './peer.ts';

const args = process.argv.slice(2);
const arg = (name: string, def: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1]! : def;
};
const sizes = arg('sizes', '64,128,256').split(',').map(Number);
const steps = Number(arg('steps', '5'));
const warmup = Number(arg('warmup', '2'));
// --ngf N narrows G and D (ndf = ngf) below the paper's 64: only for trying the script on a software adapter.
const ngf = Number(arg('ngf', '64'));

interface StepResult {
  engine: string;
  /** What the engine runs on (webgpu: the adapter), or null. */
  device: string | null;
  threads: number;
  median_ms: number;
  min_ms: number;
  peak_rss_mib: number;
}

/** Child mode: time one engine at one size, print one JSON line. */
async function child(engineName: EngineName | 'auto', threads: number | undefined, size: number): Promise<void> {
  const engine = await selectEngine(engineName, threads === undefined ? {} : { threads });
  const depth = Math.log2(size);
  const gArch = generatorArch({ depth, ngf, dropout: 'pytorch', concatOrder: 'skip-first' });
  const dArch = discriminatorArch({ nLayers: 3, ndf: ngf });
  // The model train() builds, from the same constructor.
  const c = { loss: 'L1+cGAN', ganMode: 'vanilla', lambdaL1: 100, beta1: 0.5, seed: 0 } as const;
  const model = Pix2PixModel.create(c, { G: gArch, D: dArch });
  const trainer = new Pix2PixStep(c, model, new Rng(c.seed + 2));
  const rng = new Rng(1);
  const rand = (): tf.Tensor4D => tf.tensor4d(rng.uniformSigned(size * size * 3), [1, size, size, 3]);
  const A = rand();
  const B = rand();
  const times: number[] = [];
  for (let i = 0; i < warmup + steps; i++) {
    const t0 = performance.now();
    // step() resolves once the step's losses are read back, so GPU steps are timed to completion.
    await trainer.step(A, B, 2e-4);
    if (i >= warmup) times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const result: StepResult = {
    engine: engine.name,
    device: engine.device ?? null,
    threads: engine.threads ?? 1,
    median_ms: Math.round(times[Math.floor(times.length / 2)]!),
    min_ms: Math.round(times[0]!),
    peak_rss_mib: Math.round(process.resourceUsage().maxRSS / 1024),
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

function runCase(engine: string, threads: number | undefined, size: number): StepResult {
  const childArgs = [
    '--child',
    engine,
    '--threads',
    String(threads ?? 0),
    '--sizes',
    String(size),
    '--steps',
    String(steps),
    '--warmup',
    String(warmup),
    '--ngf',
    String(ngf),
  ];
  // Each case runs as `pix2pix train` would: with the malloc settings its CLI sets for training.
  const r = spawnSync(process.execPath, [...process.execArgv, process.argv[1]!, ...childArgs], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    env: trainingEnv(),
  });
  if (r.status !== 0) throw new Error(`bench case ${engine}:${threads ?? ''} at ${size}² failed (exit ${r.status})`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as StepResult;
}

if (args.includes('--child')) {
  const threads = Number(arg('threads', '0'));
  await child(arg('child', 'auto') as EngineName, threads > 0 ? threads : undefined, sizes[0]!);
} else {
  const cases = arg('engines', 'wasm,ort-cpu:1,ort-cpu:2')
    .split(',')
    .map((c) => {
      const [engine, t] = c.split(':');
      return { engine: engine!, threads: t === undefined ? undefined : Number(t) };
    });
  const withPeer = !args.includes('--no-peer') && peerAvailable();
  for (const size of sizes) {
    const byEngine = new Map<string, StepResult[]>();
    for (const c of cases) {
      const ours = runCase(c.engine, c.threads, size);
      byEngine.set(ours.engine, [...(byEngine.get(ours.engine) ?? []), ours]);
      const line: Record<string, unknown> = { bench: 'train-step', size, netG: `unet_${size}`, netD: 'basic (70×70)', ngf, batch: 1, steps, ...ours };
      if (withPeer) {
        // The peer runs right after each case of ours (interleaved), at the same thread count.
        const peer = parsePeerLine(
          runPeer('bench_train.py', [String(size), String(Math.log2(size)), String(steps), String(warmup)], { PEER_THREADS: String(ours.threads) })
            .trim()
            .split('\n')
            .at(-1)!,
        );
        const ms = Number.parseFloat(peer.median ?? '') * 1000;
        Object.assign(line, {
          peer: 'pytorch',
          peer_threads: Number(peer.threads),
          peer_median_ms: Math.round(ms),
          peer_peak_rss_mib: Number.parseFloat(peer.peakRSS ?? ''),
          ratio_vs_peer: Number((ours.median_ms / ms).toFixed(2)),
        });
      }
      process.stdout.write(`${JSON.stringify(line)}\n`);
    }
    // How much faster the most threads are than the fewest, per engine run at several thread counts.
    for (const [engine, rs] of byEngine) {
      if (rs.length < 2) continue;
      const few = rs.reduce((p, q) => (q.threads < p.threads ? q : p));
      const many = rs.reduce((p, q) => (q.threads > p.threads ? q : p));
      if (few.threads === many.threads) continue;
      process.stdout.write(
        `${JSON.stringify({ bench: 'train-step-scaling', size, engine, threads: [few.threads, many.threads], speedup: Number((few.median_ms / many.median_ms).toFixed(2)) })}\n`,
      );
    }
  }
}
