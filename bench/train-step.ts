/**
 * Training-step benchmark: median ms per full pix2pix step (G and D updates, unet_N + 70×70 D, batch 1)
 * beside the PyTorch reference step (bench_train.py in the peer folder, see ./peer.ts) at the same
 * thread count and width, run in the same process tree and interleaved with ours (the host may be
 * shared: compare ratios, not absolute times; each line carries the load average it ran under).
 *
 *   node --import tsx bench/train-step.ts [--engines wasm,ort-cpu:1,ort-cpu:2] [--cases 128/16,256/64] [--repeat 1] [--steps 5] [--warmup 2] [--no-peer]
 *   node --import tsx bench/train-step.ts --sizes 64,128,256 [--ngf 64] ...
 *
 * A case is `size/ngf` (ndf = ngf): the default runs the quick profiles' networks (unet_128, ngf 16,
 * 128²) and the paper's (unet_256, ngf 64, 256²). `--sizes` with `--ngf` gives every size one width.
 * `--repeat N` runs the whole interleaved sequence N times. Each `engine[:threads]` case runs in its
 * own process (so peak RSS is its own). A single-threaded engine is compared with PyTorch at 1
 * thread. Prints one JSON line per (case, engine, repeat) and a `train-step-scaling` line per engine.
 */
import { spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
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
  return i >= 0 ? args[i + 1] : def;
};
const steps = Number(arg('steps', '5'));
const warmup = Number(arg('warmup', '2'));
const repeat = Number(arg('repeat', '1'));
/** One network to time: unet_<size> at size², G's ngf = D's ndf = ngf. */
interface NetCase {
  size: number;
  ngf: number;
}
// --ngf N narrows G and D (ndf = ngf) for every --sizes entry; --cases gives each size its own width.
const netCases: NetCase[] = args.includes('--sizes')
  ? arg('sizes', '')
      .split(',')
      .map((s) => ({ size: Number(s), ngf: Number(arg('ngf', '64')) }))
  : arg('cases', '128/16,256/64')
      .split(',')
      .map((c) => {
        const [size, ngf] = c.split('/');
        return { size: Number(size), ngf: Number(ngf ?? '64') };
      });

interface StepResult {
  engine: string;
  /** What the engine runs on (webgpu: the adapter), or null. */
  device: string | null;
  threads: number;
  median_ms: number;
  min_ms: number;
  /** CPU time (all threads, user + system) per timed step: with one thread, the step time on an otherwise idle core. */
  cpu_ms_per_step: number;
  peak_rss_mib: number;
}

/** Child mode: time one engine at one size, print one JSON line. */
async function child(engineName: EngineName | 'auto', threads: number | undefined, { size, ngf }: NetCase): Promise<void> {
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
  let cpu0 = process.cpuUsage();
  for (let i = 0; i < warmup + steps; i++) {
    if (i === warmup) cpu0 = process.cpuUsage();
    const t0 = performance.now();
    // step() resolves once the step's losses are read back, so GPU steps are timed to completion.
    await trainer.step(A, B, 2e-4);
    if (i >= warmup) times.push(performance.now() - t0);
  }
  const cpu = process.cpuUsage(cpu0);
  times.sort((a, b) => a - b);
  const result: StepResult = {
    engine: engine.name,
    device: engine.device ?? null,
    threads: engine.threads ?? 1,
    median_ms: Math.round(times[Math.floor(times.length / 2)]),
    min_ms: Math.round(times[0]),
    cpu_ms_per_step: Math.round((cpu.user + cpu.system) / 1000 / steps),
    peak_rss_mib: Math.round(process.resourceUsage().maxRSS / 1024),
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

function runCase(engine: string, threads: number | undefined, { size, ngf }: NetCase): StepResult {
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
  const r = spawnSync(process.execPath, [...process.execArgv, process.argv[1], ...childArgs], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    env: trainingEnv(),
  });
  if (r.status !== 0) throw new Error(`bench case ${engine}:${threads ?? ''} at ${size}² failed (exit ${r.status})`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as StepResult;
}

if (args.includes('--child')) {
  const threads = Number(arg('threads', '0'));
  await child(arg('child', 'auto') as EngineName, threads > 0 ? threads : undefined, { size: Number(arg('sizes', '256')), ngf: Number(arg('ngf', '64')) });
} else {
  const cases = arg('engines', 'wasm,ort-cpu:1,ort-cpu:2')
    .split(',')
    .map((c) => {
      const [engine, t] = c.split(':');
      return { engine: engine, threads: t === undefined ? undefined : Number(t) };
    });
  const withPeer = !args.includes('--no-peer') && peerAvailable();
  for (let rep = 0; rep < repeat; rep++) {
    for (const net of netCases) {
      const { size, ngf } = net;
      const byEngine = new Map<string, StepResult[]>();
      for (const c of cases) {
        const load = loadavg()[0];
        const ours = runCase(c.engine, c.threads, net);
        byEngine.set(ours.engine, [...(byEngine.get(ours.engine) ?? []), ours]);
        const line: Record<string, unknown> = {
          bench: 'train-step',
          size,
          netG: `unet_${size}`,
          netD: 'basic (70×70)',
          ngf,
          batch: 1,
          steps,
          repeat: rep,
          ...ours,
        };
        if (withPeer) {
          // The peer runs right after each case of ours (interleaved), at the same thread count and width.
          const peer = parsePeerLine(
            runPeer('bench_train.py', [String(size), String(Math.log2(size)), String(steps), String(warmup)], {
              PEER_THREADS: String(ours.threads),
              PEER_NGF: String(ngf),
            })
              .trim()
              .split('\n')
              .at(-1)!,
          );
          const ms = Number.parseFloat(peer.median ?? '') * 1000;
          if (ours.threads === 1) {
            // Single-threaded, both sides' CPU time per step is what the step costs on a core of its own.
            const cpuPeer = parsePeerLine(
              runPeer(
                'bench_train.py',
                [String(size), String(Math.log2(size)), String(steps), String(warmup)],
                { PEER_THREADS: '1', PEER_NGF: String(ngf) },
                true,
              )
                .trim()
                .split('\n')
                .at(-1)!,
            );
            const cpuMs = Number.parseFloat(cpuPeer.median ?? '') * 1000;
            Object.assign(line, { peer_cpu_ms_per_step: Math.round(cpuMs), cpu_ratio_vs_peer: Number((ours.cpu_ms_per_step / cpuMs).toFixed(2)) });
          }
          Object.assign(line, {
            peer: 'pytorch',
            peer_threads: Number(peer.threads),
            peer_ngf: Number(peer.ngf),
            peer_median_ms: Math.round(ms),
            peer_peak_rss_mib: Number.parseFloat(peer.peakRSS ?? ''),
            ratio_vs_peer: Number((ours.median_ms / ms).toFixed(2)),
          });
        }
        // 1-minute load average before and after the pair: other processes on the host slow both.
        Object.assign(line, { load_before: Number(load.toFixed(2)), load_after: Number(loadavg()[0].toFixed(2)) });
        process.stdout.write(`${JSON.stringify(line)}\n`);
      }
      // How much faster the most threads are than the fewest, per engine run at several thread counts.
      for (const [engine, rs] of byEngine) {
        if (rs.length < 2) continue;
        const few = rs.reduce((p, q) => (q.threads < p.threads ? q : p));
        const many = rs.reduce((p, q) => (q.threads > p.threads ? q : p));
        if (few.threads === many.threads) continue;
        process.stdout.write(
          `${JSON.stringify({ bench: 'train-step-scaling', size, ngf, repeat: rep, engine, threads: [few.threads, many.threads], speedup: Number((few.median_ms / many.median_ms).toFixed(2)) })}\n`,
        );
      }
    }
  }
}
