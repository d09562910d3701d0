/**
 * Execution-provider policy: which onnxruntime execution provider to use, in priority order
 * cuda > webgpu > cpu. The mechanics (creating the session) are passed in, so the policy is tested
 * with injected probes on machines without a GPU.
 *
 * onnxruntime-node does not fall back by itself when a provider cannot be created, so `auto`
 * catches the failure and moves on; an explicitly requested provider that fails is an error.
 */
import { existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { UserError, errorMessage, isUserError } from '../util/errors.ts';

export type ProviderName = 'cuda' | 'webgpu' | 'cpu';
export type ProviderRequest = 'auto' | ProviderName;
export const PROVIDER_REQUESTS: readonly ProviderRequest[] = ['auto', 'cuda', 'webgpu', 'cpu'];

/** Facts about the machine, each answered without crashing. */
export interface ProviderProbes {
  /** onnxruntime-node's CUDA EP library (libonnxruntime_providers_cuda.so) is installed beside the binding. */
  cudaLibraryPresent(): boolean;
  /** An NVIDIA GPU is visible (nvidia-smi lists one, or /dev/nvidia0 exists). */
  nvidiaGpuPresent(): boolean;
}

export const CUDA_HINT = 'run `npm run setup:gpu` on a machine with an NVIDIA GPU and CUDA 12';

interface ProviderEntry {
  name: ProviderName;
  /** Tried by `auto` (webgpu is not: on servers it usually finds no adapter and is slower than cpu when it does not). */
  auto: boolean;
  /** A reason it cannot work here, or undefined if it may. */
  unavailable(probes: ProviderProbes): string | undefined;
  /** The one-line error for an explicit request that cannot be honoured. */
  failure(reason: string): string;
}

export const PROVIDER_REGISTRY: readonly ProviderEntry[] = [
  {
    name: 'cuda',
    auto: true,
    unavailable(p) {
      if (!p.cudaLibraryPresent()) return 'its provider library is not installed';
      if (!p.nvidiaGpuPresent()) return 'no NVIDIA GPU found';
      return undefined;
    },
    failure: (reason) => `CUDA execution provider not available (${reason}): ${CUDA_HINT}`,
  },
  {
    name: 'webgpu',
    auto: false,
    unavailable: () => undefined,
    failure: (reason) => `WebGPU execution provider not available (${reason}); use --provider cpu (or cuda on an NVIDIA machine)`,
  },
  {
    name: 'cpu',
    auto: true,
    unavailable: () => undefined,
    failure: (reason) => `the CPU execution provider failed (${reason})`,
  },
];

export interface ProviderChoice<T> {
  value: T;
  provider: ProviderName;
  /** Providers passed over by `auto`, with why (to print). */
  skipped: string[];
}

function firstLine(e: unknown): string {
  return errorMessage(e).split('\n')[0]!.slice(0, 200);
}

/**
 * Create something (a session) with the best provider the request allows. `create` is called with a
 * provider name and throws if that provider cannot be used.
 */
export async function chooseProvider<T>(request: ProviderRequest, probes: ProviderProbes, create: (provider: ProviderName) => Promise<T>): Promise<ProviderChoice<T>> {
  if (!PROVIDER_REQUESTS.includes(request)) {
    throw new UserError(`unknown --provider '${request}': use ${PROVIDER_REQUESTS.join(', ')}`);
  }
  if (request !== 'auto') {
    const entry = PROVIDER_REGISTRY.find((e) => e.name === request)!;
    const reason = entry.unavailable(probes);
    if (reason) throw new UserError(entry.failure(reason));
    try {
      return { value: await create(entry.name), provider: entry.name, skipped: [] };
    } catch (e) {
      // `create` raises a UserError for a problem of the model itself, not of the provider.
      if (isUserError(e)) throw e;
      throw new UserError(entry.failure(firstLine(e)));
    }
  }
  const skipped: string[] = [];
  for (const entry of PROVIDER_REGISTRY) {
    if (!entry.auto) continue;
    const reason = entry.unavailable(probes);
    if (reason) {
      skipped.push(`${entry.name}: ${reason}`);
      continue;
    }
    try {
      return { value: await create(entry.name), provider: entry.name, skipped };
    } catch (e) {
      if (entry.name === 'cpu') throw isUserError(e) ? e : new UserError(entry.failure(firstLine(e)));
      skipped.push(`${entry.name}: ${firstLine(e)}`);
    }
  }
  throw new Error('provider registry has no cpu entry');
}

/** Folder holding onnxruntime-node's native binding (where the CUDA EP library must be). */
export function onnxruntimeBinFolder(): string | undefined {
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
};
