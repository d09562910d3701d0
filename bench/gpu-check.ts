/**
 * The GPU check, one JSON line per measurement (run it through bench/gpu-check.sh, which sets up the
 * Vulkan loader and NVIDIA's Vulkan ICD first):
 *   gpu-env      the GPU, the WebGPU adapter Dawn sees, where the Vulkan loader came from
 *   train-step   webgpu training step (unet_N + 70×70 D, batch 1) at 256² and 128², beside PyTorch
 *   infer        webgpu and (when its libraries exist) CUDA EP inference img/s, batch 1 and 8
 *   infer-peer   PyTorch eager generator img/s, batch 1 and 8
 *   gpu-check    ratios against PyTorch, and the wall time of the whole check
 * PyTorch runs on CUDA (fp32, TF32 off) when it sees a GPU, else on the CPU; PEER_DIR names the peer
 * scripts' folder. `--quick` shrinks every case (32², ngf 4; the peer stays full width) so the logic
 * can be tried on a software adapter: its ratios mean nothing.
 * Every stage has a time cap, so one run stays under 8 minutes.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { systemProbes } from '../src/runtime/providers.ts';
import { describeAdapter, probeWebgpuAdapter } from '../src/util/webgpu.ts';
import { parsePeerLine, PEER_DIR, peerAvailable } from './peer.ts';

const quick = process.argv.includes('--quick');
const BUDGET_S = 450;
const t0 = performance.now();
const left = (): number => BUDGET_S - (performance.now() - t0) / 1000;
const HERE = import.meta.dirname;

type Line = Record<string, unknown>;
const emit = (line: Line): void => void process.stdout.write(`${JSON.stringify(line)}\n`);

/** Run a bench script in its own process with a time cap; print and return its JSON lines. */
function stage(name: string, script: string, args: string[], capS: number, env: NodeJS.ProcessEnv = {}): Line[] {
  const timeout = Math.floor(Math.max(5, Math.min(capS, left() - 5)) * 1000);
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(HERE, script), ...args], {
    encoding: 'utf8',
    timeout,
    env: { ...process.env, ...env },
    maxBuffer: 1 << 24,
  });
  const lines = (r.stdout ?? '')
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Line);
  for (const l of lines) emit(l);
  if (r.status !== 0) {
    const why =
      r.error?.message.includes('ETIMEDOUT') || r.signal
        ? `stopped after ${Math.round(timeout / 1000)} s (time cap)`
        : (r.stderr ?? '')
            .trim()
            .split('\n')
            .filter((l) => !/XDG_RUNTIME_DIR/.test(l))
            .slice(-3)
            .join(' | ');
    emit({ bench: name, error: why.slice(0, 500) });
  }
  return lines;
}

function nvidiaGpu(): string | null {
  const r = spawnSync('nvidia-smi', ['--query-gpu=name,driver_version,memory.total', '--format=csv,noheader'], { encoding: 'utf8', timeout: 10_000 });
  return r.status === 0 ? r.stdout.trim().split('\n')[0] : null;
}

function torchCuda(): boolean {
  const r = spawnSync('/usr/bin/python3', ['-c', 'import torch,sys; sys.exit(0 if torch.cuda.is_available() else 1)'], { timeout: 60_000 });
  return r.status === 0;
}

const gpu = nvidiaGpu();
let adapter: string | null = null;
let adapterError: string | null = null;
try {
  adapter = describeAdapter(await probeWebgpuAdapter());
} catch (e) {
  adapterError = e instanceof Error ? e.message : String(e);
}
const peers = peerAvailable();
const peerDevice = peers && torchCuda() ? 'cuda' : 'cpu';
const cudaEp = systemProbes.cudaLibraryPresent() && systemProbes.nvidiaGpuPresent();
emit({
  bench: 'gpu-env',
  date: new Date().toISOString(),
  mode: quick ? 'quick (tiny sizes: a logic check, not a measurement)' : 'full',
  nvidia_gpu: gpu,
  webgpu_adapter: adapter,
  webgpu_error: adapterError,
  vulkan_loader: process.env.GPU_CHECK_VULKAN_LOADER ?? 'system',
  vk_icd_filenames: process.env.VK_ICD_FILENAMES ?? null,
  cuda_ep: cudaEp,
  peer: peers ? { dir: PEER_DIR, device: peerDevice } : `no PyTorch peer (set PEER_DIR to the peer scripts' folder; needs python3 with torch)`,
});

const train: Line[] = [];
const infer: Line[] = [];
// 32² is the smallest side the 70×70 D (3 stride-2 layers) still gives logits for.
const SIZES = quick ? [32] : [256, 128];
const INFER_SIZE = quick ? 32 : 256;
// The peer's generator benchmark knows U-Nets of 6 to 8 levels only (64² and up).
const PEER_INFER_SIZE = Math.max(64, INFER_SIZE);
const BATCHES = [1, 8];
if (adapter) {
  for (const size of SIZES) {
    train.push(
      ...stage(
        'train-step',
        'train-step.ts',
        [
          '--engines',
          'webgpu',
          '--sizes',
          String(size),
          '--ngf',
          quick ? '4' : '64',
          '--steps',
          quick ? '1' : '5',
          '--warmup',
          quick ? '1' : '2',
          ...(peers ? [] : ['--no-peer']),
        ],
        quick ? 150 : 120,
        { PEER_DEVICE: peerDevice },
      ),
    );
  }
}
const providers = [...(adapter ? ['webgpu'] : []), ...(cudaEp ? ['cuda'] : [])];
for (const provider of providers) {
  for (const batch of BATCHES) {
    infer.push(
      ...stage(
        'infer',
        'infer.ts',
        [
          '--provider',
          provider,
          '--batch',
          String(batch),
          '--size',
          String(INFER_SIZE),
          '--scale',
          quick ? '0.0625' : '1',
          '--reps',
          quick ? '1' : '3',
          '--ngf',
          quick ? '4' : '64',
          '--no-peer',
        ],
        quick ? 90 : 60,
      ),
    );
  }
}
const eager = new Map<number, number>();
if (peers) {
  const nd = Math.log2(PEER_INFER_SIZE);
  for (const batch of BATCHES) {
    if (left() < 20) break;
    try {
      // Capped by what is left of the budget (runPeer's own limit is 15 minutes).
      const r = spawnSync(
        '/usr/bin/python3',
        [path.join(PEER_DIR, 'bench_gen.py'), String(batch), 'train', quick ? '3' : '10', '2', String(nd), String(PEER_INFER_SIZE)],
        {
          encoding: 'utf8',
          timeout: Math.floor((left() - 10) * 1000),
          env: { ...process.env, PEER_DEVICE: peerDevice },
        },
      );
      if (r.status !== 0) throw new Error(r.signal ? 'stopped at the time cap' : (r.stderr ?? '').slice(-300));
      const out = r.stdout;
      const p = parsePeerLine(out.trim().split('\n').at(-1)!);
      eager.set(batch, Number.parseFloat(p['img/s'] ?? ''));
      emit({
        bench: 'infer-peer',
        peer: 'pytorch eager (train-mode norm, as the ONNX export)',
        peer_device: process.env.PEER_DEVICE ?? peerDevice,
        size: PEER_INFER_SIZE,
        batch,
        img_per_s: eager.get(batch),
      });
    } catch (e) {
      emit({ bench: 'infer-peer', batch, error: (e instanceof Error ? e.message : String(e)).slice(0, 300) });
    }
  }
}

const ratio = (a: unknown, b: unknown): number | null => (typeof a === 'number' && typeof b === 'number' && b > 0 ? Number((a / b).toFixed(2)) : null);
emit({
  bench: 'gpu-check',
  train_step_ms_vs_pytorch: Object.fromEntries(train.map((l) => [String(l.size), l.ratio_vs_peer ?? null])),
  // Ratios only where both sides ran the same size (quick mode's peer runs at 64²).
  infer_img_per_s_vs_pytorch: Object.fromEntries(
    infer.map((l) => [`${l.provider}_batch${l.batch}`, PEER_INFER_SIZE === INFER_SIZE ? ratio(l.session_img_per_s, eager.get(Number(l.batch))) : null]),
  ),
  targets: 'webgpu train step 256² within 3x PyTorch CUDA; webgpu inference ≥ 0.5x PyTorch CUDA eager img/s at batch 8',
  wall_s: Math.round((performance.now() - t0) / 1000),
});
if (!existsSync(PEER_DIR) && !quick) process.stderr.write(`gpu-check: no peer scripts at ${PEER_DIR}: pass --peers DIR to bench/gpu-check.sh\n`);
