/**
 * Training engines, in priority order (fastest first). `auto` takes the first one that loads.
 * Policy lives here; the mechanics of each backend stay in its `load` function.
 */
import * as tf from '../tfjs.ts';
import { UserError } from '../../util/errors.ts';
import { noGpuReason } from '../../util/webgpu.ts';

export type EngineName = 'tfjs-node-gpu' | 'webgpu' | 'tfjs-node' | 'ort-cpu' | 'wasm' | 'cpu';
export const ENGINE_NAMES: readonly EngineName[] = ['tfjs-node-gpu', 'webgpu', 'tfjs-node', 'ort-cpu', 'wasm', 'cpu'];

interface EngineEntry {
  name: EngineName;
  /** tfjs backend name the engine registers. */
  backend: string;
  /**
   * Import and initialise; throw (with a reason) if unavailable. `auto` is true when the engine is
   * being tried by `--engine auto` (which may refuse what an explicit request accepts). May return
   * what it runs on (the GPU adapter), for the run log.
   */
  load(opts: EngineOptions, auto: boolean): Promise<string | void>;
  /** What to do when it does not load. */
  hint: string;
}

async function importOptional(pkg: string): Promise<void> {
  // A computed specifier keeps bundlers and type-checkers from requiring optional packages.
  await import(/* @vite-ignore */ pkg);
}

const ENGINES: readonly EngineEntry[] = [
  {
    name: 'tfjs-node-gpu',
    backend: 'tensorflow',
    hint: 'install it with `npm run setup:gpu` (needs an NVIDIA GPU, CUDA 11.2 and cuDNN 8)',
    async load() {
      await importOptional('@tensorflow/tfjs-node-gpu');
    },
  },
  {
    name: 'webgpu',
    backend: 'webgpu',
    hint: 'it needs a GPU with a Vulkan (Linux), Metal (macOS) or D3D12 (Windows) driver; see docs/gpu.md',
    async load(_opts, auto) {
      const noGpu = auto ? noGpuReason() : undefined;
      if (noGpu) throw new Error(noGpu);
      const { loadWebgpuEngine } = await import('./webgpu.ts');
      return loadWebgpuEngine({ allowSoftware: !auto });
    },
  },
  {
    name: 'tfjs-node',
    backend: 'tensorflow',
    hint: 'install it with `npm install --no-save @tensorflow/tfjs-node@4.22.0` (downloads libtensorflow)',
    async load() {
      await importOptional('@tensorflow/tfjs-node');
    },
  },
  {
    name: 'ort-cpu',
    backend: 'wasm',
    hint: 'it ships with pix2pix-ts (onnxruntime-node); reinstall with `npm ci`',
    async load(opts) {
      const { activateOrtCpu } = await import('./ort-cpu.ts');
      activateOrtCpu(opts.threads);
    },
  },
  {
    name: 'wasm',
    backend: 'wasm',
    hint: 'it ships with pix2pix-ts; reinstall with `npm ci`',
    async load() {
      await import('@tensorflow/tfjs-backend-wasm');
    },
  },
  {
    name: 'cpu',
    backend: 'cpu',
    hint: 'it ships with pix2pix-ts (@tensorflow/tfjs-backend-cpu); reinstall with `npm ci`',
    async load() {},
  },
];

export interface EngineOptions {
  /** Threads for engines that use several (ort-cpu); default: every core. */
  threads?: number;
}

export interface LoadedEngine {
  name: EngineName;
  backend: string;
  /** Threads the engine computes with (multi-threaded engines only). */
  threads?: number;
  /** What it runs on, when the engine says (webgpu: the adapter's vendor and architecture). */
  device?: string;
  /** Why faster engines were passed over (for the run log). */
  skipped: string[];
}

let current: LoadedEngine | undefined;

async function activate(e: EngineEntry, opts: EngineOptions, auto: boolean): Promise<{ threads?: number; device?: string }> {
  // PROD drops tfjs's debug checks and its "install tfjs-node" console banner; our log names the engine instead.
  tf.env().set('PROD', true);
  const device = (await e.load(opts, auto)) ?? undefined;
  const ok = await tf.setBackend(e.backend);
  if (!ok) throw new Error(`tfjs backend '${e.backend}' failed to initialise`);
  await tf.ready();
  if (e.name === 'wasm') {
    const { registerFastWasmKernels } = await import('./wasm-kernels.ts');
    registerFastWasmKernels();
  }
  const threads = e.name === 'ort-cpu' ? (await import('./ort-cpu.ts')).ortThreads() : undefined;
  return { ...(threads !== undefined ? { threads } : {}), ...(device ? { device } : {}) };
}

/**
 * Select and initialise the training engine. `auto` tries them in priority order; an explicit
 * name that does not load is a one-line error saying how to install it.
 */
export async function selectEngine(requested: EngineName | 'auto' = 'auto', opts: EngineOptions = {}): Promise<LoadedEngine> {
  if (opts.threads !== undefined && (!Number.isInteger(opts.threads) || opts.threads < 1))
    throw new UserError(`--threads must be a positive integer, got ${opts.threads}`);
  const sameThreads = opts.threads === undefined || current?.threads === undefined || current.threads === opts.threads;
  if (current && sameThreads && (requested === 'auto' || requested === current.name)) return current;
  if (requested !== 'auto') {
    const e = ENGINES.find((x) => x.name === requested);
    if (!e) throw new UserError(`unknown --engine '${requested}': use auto, ${ENGINE_NAMES.join(', ')}`);
    let found: { threads?: number; device?: string };
    try {
      found = await activate(e, opts, false);
    } catch (err) {
      throw new UserError(`engine ${e.name} is not available here (${firstLine(err)}): ${e.hint}`);
    }
    current = { name: e.name, backend: e.backend, skipped: [], ...found };
    return current;
  }
  const skipped: string[] = [];
  for (const e of ENGINES) {
    try {
      current = { name: e.name, backend: e.backend, skipped, ...(await activate(e, opts, true)) };
      return current;
    } catch (err) {
      skipped.push(`${e.name}: ${firstLine(err)}`);
    }
  }
  throw new Error(`no training engine could be loaded:\n${skipped.join('\n')}`);
}

function firstLine(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.split('\n')[0].slice(0, 200);
}
