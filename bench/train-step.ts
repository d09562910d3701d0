/**
 * Training-step benchmark: median ms per full pix2pix step (G and D updates) at 64², 128², 256², beside the
 * PyTorch reference step (../shared/peers/pytorch/bench_train.py) run in the same process tree.
 * Usage: node --import tsx bench/train-step.ts [--engine wasm] [--sizes 64,128,256] [--steps 5] [--warmup 2] [--no-peer]
 * (PEER_DEVICE=cuda times the peer on an NVIDIA GPU; each step waits for its losses, so GPU steps are timed to completion.)
 * Prints one JSON line per case.
 */
import * as tf from '@tensorflow/tfjs';
import { selectEngine, type EngineName } from '../src/train/engines/registry.ts';
import { discriminatorArch, generatorArch } from '../src/nets/arch.ts';
import { createPix2Pix } from '../src/train/trainer.ts';
import { Rng } from '../src/util/rng.ts';
import { parsePeerLine, peerAvailable, runPeer } from './peer.ts';

const args = process.argv.slice(2);
const arg = (name: string, def: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1]! : def;
};
const engineName = arg('engine', 'auto') as EngineName | 'auto';
const sizes = arg('sizes', '64,128,256').split(',').map(Number);
const steps = Number(arg('steps', '5'));
const warmup = Number(arg('warmup', '2'));
const withPeer = !args.includes('--no-peer') && peerAvailable();
// --ngf N narrows G and D (ndf = ngf) below the paper's 64: only for trying the script on a software adapter.
const ngf = Number(arg('ngf', '64'));

const engine = await selectEngine(engineName);
for (const size of sizes) {
  const depth = Math.log2(size);
  const gArch = generatorArch({ depth, ngf, dropout: 'pytorch', concatOrder: 'skip-first' });
  const dArch = discriminatorArch({ nLayers: 3, ndf: ngf });
  const model = createPix2Pix({ loss: 'L1+cGAN', ganMode: 'vanilla', lambdaL1: 100, beta1: 0.5, seed: 0 }, gArch, dArch);
  const rng = new Rng(1);
  const rand = (): tf.Tensor4D => tf.tensor4d(Float32Array.from({ length: size * size * 3 }, () => rng.next() * 2 - 1), [1, size, size, 3]);
  const A = rand();
  const B = rand();
  const times: number[] = [];
  for (let i = 0; i < warmup + steps; i++) {
    const t0 = performance.now();
    await model.step.step(A, B, 2e-4);
    if (i >= warmup) times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)]!;
  model.dispose();
  tf.dispose([A, B]);
  const line: Record<string, unknown> = {
    bench: 'train-step',
    engine: engine.name,
    device: engine.device ?? null,
    size,
    netG: `unet_${size}`,
    netD: 'basic (70×70)',
    ngf,
    batch: 1,
    steps,
    median_ms: Math.round(median),
    min_ms: Math.round(times[0]!),
    peak_rss_mib: Math.round(process.resourceUsage().maxRSS / 1024),
  };
  if (withPeer) {
    const peer = parsePeerLine(runPeer('bench_train.py', [String(size), String(depth), String(steps), String(warmup)]).trim().split('\n').at(-1)!);
    const peerMs = Number.parseFloat(peer.median ?? "") * 1000;
    Object.assign(line, { peer: 'pytorch', peer_device: process.env.PEER_DEVICE ?? 'cpu', peer_threads: Number(peer.threads), peer_median_ms: Math.round(peerMs), peer_peak_rss_mib: Number.parseFloat(peer.peakRSS ?? ""), ratio_vs_peer: Number((median / peerMs).toFixed(2)) });
  }
  process.stdout.write(`${JSON.stringify(line)}\n`);
}
