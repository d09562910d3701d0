/**
 * Training engines, in priority order (fastest first). `auto` takes the first one that loads.
 * Policy lives here; the mechanics of each backend stay in its `load` function.
 */
import * as tf from '@tensorflow/tfjs';
import { UserError } from '../../util/errors.ts';

export type EngineName = 'tfjs-node-gpu' | 'webgpu' | 'tfjs-node' | 'wasm' | 'cpu';
export const ENGINE_NAMES: readonly EngineName[] = ['tfjs-node-gpu', 'webgpu', 'tfjs-node', 'wasm', 'cpu'];

interface EngineEntry {
  name: EngineName;
  /** tfjs backend name the engine registers. */
  backend: string;
  /**
   * Import and initialise; throw (with a reason) if unavailable. `auto` is true when the engine is
   * being tried by `--engine auto` (which may refuse what an explicit request accepts). May return
   * what it runs on (the GPU adapter), for the run log.
   */
  load(auto: boolean): Promise<string | void>;
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
    async load(auto) {
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
    hint: 'it ships with @tensorflow/tfjs',
    async load() {},
  },
];

export interface LoadedEngine {
  name: EngineName;
  backend: string;
  /** Why faster engines were passed over (for the run log). */
  skipped: string[];
  /** What it runs on, when the engine says (webgpu: the adapter's vendor and architecture). */
  device?: string;
}

let current: LoadedEngine | undefined;

async function activate(e: EngineEntry, auto: boolean): Promise<string | undefined> {
  // PROD drops tfjs's debug checks and its "install tfjs-node" console banner; our log names the engine instead.
  tf.env().set('PROD', true);
  const device = (await e.load(auto)) ?? undefined;
  const ok = await tf.setBackend(e.backend);
  if (!ok) throw new Error(`tfjs backend '${e.backend}' failed to initialise`);
  await tf.ready();
  if (e.name === 'wasm') {
    const { registerFastWasmKernels } = await import('./wasm-kernels.ts');
    registerFastWasmKernels();
  }
  return device;
}

/**
 * Select and initialise the training engine. `auto` tries them in priority order; an explicit
 * name that does not load is a one-line error saying how to install it.
 */
export async function selectEngine(requested: EngineName | 'auto' = 'auto'): Promise<LoadedEngine> {
  if (current && (requested === 'auto' || requested === current.name)) return current;
  if (requested !== 'auto') {
    const e = ENGINES.find((x) => x.name === requested);
    if (!e) throw new UserError(`unknown --engine '${requested}': use auto, ${ENGINE_NAMES.join(', ')}`);
    let device: string | undefined;
    try {
      device = await activate(e, false);
    } catch (err) {
      throw new UserError(`engine ${e.name} is not available here (${firstLine(err)}): ${e.hint}`);
    }
    current = { name: e.name, backend: e.backend, skipped: [], ...(device ? { device } : {}) };
    return current;
  }
  const skipped: string[] = [];
  for (const e of ENGINES) {
    try {
      const device = await activate(e, true);
      current = { name: e.name, backend: e.backend, skipped, ...(device ? { device } : {}) };
      return current;
    } catch (err) {
      skipped.push(`${e.name}: ${firstLine(err)}`);
    }
  }
  throw new Error(`no training engine could be loaded:\n${skipped.join('\n')}`);
}

function firstLine(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.split('\n')[0]!.slice(0, 200);
}
