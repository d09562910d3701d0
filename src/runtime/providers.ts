/**
 * Execution-provider policy: which onnxruntime execution provider to use, in priority order
 * cuda > webgpu (a hardware adapter only) > cpu. The mechanics (creating the session) are passed in,
 * so the policy is tested with injected probes on machines without a GPU.
 *
 * onnxruntime-node does not fall back by itself when a provider cannot be created, so `auto`
 * catches the failure and moves on; an explicitly requested provider that fails is an error.
 */
import { existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { UserError, errorMessage, isUserError } from '../util/errors.ts';
import { describeAdapter, noGpuReason, probeWebgpuAdapter } from '../util/webgpu.ts';

export type ProviderName = 'cuda' | 'webgpu' | 'cpu';
export type ProviderRequest = 'auto' | ProviderName;
const PROVIDER_REQUESTS: readonly ProviderRequest[] = ['auto', 'cuda', 'webgpu', 'cpu'];

/** Facts about the machine, each answered without crashing. */
export interface ProviderProbes {
  /** onnxruntime-node's CUDA EP library (libonnxruntime_providers_cuda.so) is installed beside the binding. */
  cudaLibraryPresent(): boolean;
  /** An NVIDIA GPU is visible (nvidia-smi lists one, or /dev/nvidia0 exists). */
  nvidiaGpuPresent(): boolean;
  /**
   * The WebGPU adapter this machine offers (onnxruntime's WebGPU EP runs on Dawn, like this probe);
   * rejects with what is missing (the Vulkan loader, a driver).
   */
  webgpuAdapter(): Promise<{ name: string; software: boolean }>;
  /**
   * Why no GPU can be here (Linux without /dev/dri, /dev/nvidia0 or VK_ICD_FILENAMES), or undefined.
   * `auto` then skips the WebGPU probe, whose Dawn prints its failed Vulkan attempts to stderr.
   */
  noGpuDevice?(): string | undefined;
}

const CUDA_HINT = 'run `npm run setup:gpu` on a machine with an NVIDIA GPU and CUDA 12';

interface ProviderEntry {
  name: ProviderName;
  /**
   * A reason it cannot work here, or what it would run on. `auto` is stricter than an explicit
   * request: it takes webgpu only on a hardware adapter (a software one is slower than the CPU EP).
   */
  check(probes: ProviderProbes, auto: boolean): Promise<{ reason?: string; device?: string }>;
  /** The one-line error for an explicit request that cannot be honoured. */
  failure(reason: string): string;
}

const PROVIDER_REGISTRY: readonly ProviderEntry[] = [
  {
    name: 'cuda',
    async check(p) {
      if (!p.cudaLibraryPresent()) return { reason: 'its provider library is not installed' };
      if (!p.nvidiaGpuPresent()) return { reason: 'no NVIDIA GPU found' };
      return {};
    },
    failure: (reason) => `CUDA execution provider not available (${reason}): ${CUDA_HINT}`,
  },
  {
    name: 'webgpu',
    async check(p, auto) {
      const noGpu = auto ? p.noGpuDevice?.() : undefined;
      if (noGpu) return { reason: noGpu };
      let adapter: { name: string; software: boolean };
      try {
        adapter = await p.webgpuAdapter();
      } catch (e) {
        // The hint for an explicit request names a software driver; auto would not take one, so it only says what is missing.
        return { reason: auto ? firstLine(e).replace(/ \(a software one: [^)]*\)$/, '') : firstLine(e) };
      }
      if (auto && adapter.software) return { reason: `only a software adapter (${adapter.name}); auto takes webgpu on a GPU only` };
      return { device: adapter.name };
    },
    failure: (reason) => `WebGPU execution provider not available (${reason}); use --provider cpu (or cuda on an NVIDIA machine)`,
  },
  {
    name: 'cpu',
    check: async () => ({}),
    failure: (reason) => `the CPU execution provider failed (${reason})`,
  },
];

export interface ProviderChoice<T> {
  value: T;
  provider: ProviderName;
  /** Providers passed over by `auto`, with why (to print). */
  skipped: string[];
  /** What the provider runs on, when known (webgpu: the adapter). */
  device?: string;
}

function firstLine(e: unknown): string {
  return errorMessage(e).split('\n')[0].slice(0, 200);
}

/**
 * Create something (a session) with the best provider the request allows. `create` is called with a
 * provider name and throws if that provider cannot be used.
 */
export async function chooseProvider<T>(
  request: ProviderRequest,
  probes: ProviderProbes,
  create: (provider: ProviderName) => Promise<T>,
): Promise<ProviderChoice<T>> {
  if (!PROVIDER_REQUESTS.includes(request)) {
    throw new UserError(`unknown --provider '${request}': use ${PROVIDER_REQUESTS.join(', ')}`);
  }
  if (request !== 'auto') {
    const entry = PROVIDER_REGISTRY.find((e) => e.name === request)!;
    const { reason, device } = await entry.check(probes, false);
    if (reason) throw new UserError(entry.failure(reason));
    try {
      return { value: await create(entry.name), provider: entry.name, skipped: [], ...(device ? { device } : {}) };
    } catch (e) {
      // `create` raises a UserError for a problem of the model itself, not of the provider.
      if (isUserError(e)) throw e;
      throw new UserError(entry.failure(firstLine(e)));
    }
  }
  const skipped: string[] = [];
  for (const entry of PROVIDER_REGISTRY) {
    const { reason, device } = await entry.check(probes, true);
    if (reason) {
      skipped.push(`${entry.name}: ${reason}`);
      continue;
    }
    try {
      return { value: await create(entry.name), provider: entry.name, skipped, ...(device ? { device } : {}) };
    } catch (e) {
      if (entry.name === 'cpu') throw isUserError(e) ? e : new UserError(entry.failure(firstLine(e)));
      skipped.push(`${entry.name}: ${firstLine(e)}`);
    }
  }
  throw new Error('provider registry has no cpu entry');
}

/** Folder holding onnxruntime-node's native binding (where the CUDA EP library must be). */
function onnxruntimeBinFolder(): string | undefined {
  try {
    const require = createRequire(import.meta.url);
    const pkg = require.resolve('onnxruntime-node/package.json');
    return path.join(path.dirname(pkg), 'bin', 'napi-v6', process.platform, process.arch);
  } catch {
    return undefined;
  }
}

/** The probes for this machine. */
export const systemProbes: ProviderProbes = {
  cudaLibraryPresent() {
    const dir = onnxruntimeBinFolder();
    return dir !== undefined && existsSync(path.join(dir, 'libonnxruntime_providers_cuda.so'));
  },
  nvidiaGpuPresent() {
    if (existsSync('/dev/nvidia0')) return true;
    try {
      const out = execFileSync('nvidia-smi', ['-L'], { encoding: 'utf8', timeout: 5000, stdio: ['ignore', 'pipe', 'ignore'] });
      return /GPU \d+:/.test(out);
    } catch {
      return false;
    }
  },
  async webgpuAdapter() {
    const a = await probeWebgpuAdapter();
    return { name: describeAdapter(a), software: a.software };
  },
  noGpuDevice: () => noGpuReason(),
};
