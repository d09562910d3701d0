/**
 * WebGPU in Node through Dawn's Node binding (the `webgpu` npm package, whose prebuilt `dawn.node`
 * ships inside it). Shared by the training engine (tfjs-backend-webgpu) and the inference provider
 * policy (onnxruntime's WebGPU EP brings its own Dawn; we only use this module there to ask which
 * adapter the machine has). Loads no tfjs.
 *
 * On Linux Dawn reaches the GPU through Vulkan: it needs the Vulkan loader (libvulkan.so.1, Debian
 * package libvulkan1) and a Vulkan driver (NVIDIA's, Mesa's, or SwiftShader's software one, which
 * Debian's chromium package ships: VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json).
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';

export interface GpuAdapterSummary {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** A CPU implementation (SwiftShader, llvmpipe/lavapipe, or one the driver flags as a fallback). */
  software: boolean;
}

/** The fields of a WebGPU adapter (`adapter.info` plus `isFallbackAdapter`) this module reads. */
export interface RawAdapterInfo {
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
  isFallbackAdapter?: boolean;
}

const SOFTWARE_NAMES = /swiftshader|llvmpipe|lavapipe|softpipe|software|warp\b/i;

/** Whether an adapter is a software (CPU) one: never picked by `auto`, which wants a real GPU. */
export function isSoftwareAdapter(info: RawAdapterInfo): boolean {
  if (info.isFallbackAdapter) return true;
  return [info.vendor, info.architecture, info.device, info.description].some((s) => s !== undefined && SOFTWARE_NAMES.test(s));
}

function summarizeAdapter(info: RawAdapterInfo): GpuAdapterSummary {
  return {
    vendor: info.vendor || 'unknown vendor',
    architecture: info.architecture || 'unknown architecture',
    device: info.device ?? '',
    description: info.description ?? '',
    software: isSoftwareAdapter(info),
  };
}

/** "nvidia hopper" / "google swiftshader (software)": what run logs print. */
export function describeAdapter(a: GpuAdapterSummary): string {
  return `${a.vendor} ${a.architecture}${a.description ? ` [${a.description}]` : ''}${a.software ? ' (software)' : ''}`;
}

/** Whether the dynamic linker can find libvulkan.so.1 (Linux only; elsewhere Dawn uses Metal or D3D12). */
export function vulkanLoaderFound(): boolean {
  if (process.platform !== 'linux') return true;
  const dirs = (process.env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean);
  if (dirs.some((d) => existsSync(path.join(d, 'libvulkan.so.1')))) return true;
  try {
    return /libvulkan\.so\.1\b/.test(execFileSync('ldconfig', ['-p'], { encoding: 'utf8', timeout: 5000, stdio: ['ignore', 'pipe', 'ignore'] }));
  } catch {
    return ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib'].some((d) => existsSync(path.join(d, 'libvulkan.so.1')));
  }
}

const VULKAN_LOADER_HINT = 'no Vulkan loader libvulkan.so.1 (Debian/Ubuntu: apt-get install libvulkan1)';
// Kept under 200 characters: engine errors quote the first 200 of a reason.
export const NO_ADAPTER_HINT =
  'no WebGPU adapter: no usable Vulkan/Metal/D3D12 driver (a software one: VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json)';

type Gpu = { requestAdapter(opts?: { powerPreference?: string }): Promise<(RawAdapterInfo & { info?: RawAdapterInfo }) | null> };
type DawnModule = { create(flags: string[]): Gpu; globals: Record<string, unknown> };

async function loadDawn(): Promise<DawnModule> {
  try {
    return (await import(/* @vite-ignore */ 'webgpu')) as unknown as DawnModule;
  } catch (e) {
    throw new Error(
      `the webgpu package (Dawn's Node binding) did not load: ${(e instanceof Error ? e.message : String(e)).split('\n')[0]}; reinstall with \`npm ci\``,
      { cause: e },
    );
  }
}

let gpu: Gpu | undefined;

/**
 * Load dawn.node and expose it as `navigator.gpu` (what tfjs-backend-webgpu looks for, at import
 * time). Idempotent. Throws with a reason when the binding cannot load.
 */
export async function installWebgpuGlobals(): Promise<Gpu> {
  if (gpu) return gpu;
  const dawn = await loadDawn();
  Object.assign(globalThis, dawn.globals);
  const created = dawn.create([]);
  // Node 21+ has a navigator object of its own: add `gpu` to it; Node 20 has none.
  const g = globalThis as { navigator?: object };
  if (g.navigator) Object.defineProperty(g.navigator, 'gpu', { value: created, configurable: true, writable: true });
  else Object.defineProperty(globalThis, 'navigator', { value: { gpu: created }, configurable: true, writable: true });
  gpu = created;
  return created;
}

/**
 * Linux only: true when no hardware GPU can be behind a WebGPU adapter here: no DRM render node
 * (`/dev/dri`, Mesa's and most vendors' drivers), no `/dev/nvidia0`, and no VK_ICD_FILENAMES naming a
 * driver. Dawn would then find at best a software Vulkan driver, which `auto` does not take, and it
 * prints its failed attempts to stderr; `auto` skips the probe instead.
 */
export function surelyNoGpu(env: NodeJS.ProcessEnv = process.env, exists: (p: string) => boolean = existsSync, platform: string = process.platform): boolean {
  if (platform !== 'linux' || env.VK_ICD_FILENAMES || env.VK_DRIVER_FILES) return false;
  return !exists('/dev/dri') && !exists('/dev/nvidia0');
}

/**
 * Why no GPU can be here, for skip messages (what was looked for, all of it true), or undefined
 * when one may be. The one rule training's `auto` engine and inference's `auto` provider share.
 */
export function noGpuReason(
  env: NodeJS.ProcessEnv = process.env,
  exists: (p: string) => boolean = existsSync,
  platform: string = process.platform,
): string | undefined {
  return surelyNoGpu(env, exists, platform) ? 'no GPU device here (no /dev/dri, no /dev/nvidia0, VK_ICD_FILENAMES not set)' : undefined;
}

let probed: Promise<GpuAdapterSummary> | undefined;

/**
 * The adapter Dawn gives a high-performance request, or an Error saying what is missing (the Vulkan
 * loader, a driver, the binding). Uses a Dawn instance of its own that it then drops, and sets no
 * globals, so inference can ask without touching what training uses. Answered once per process.
 */
export function probeWebgpuAdapter(): Promise<GpuAdapterSummary> {
  probed ??= (async () => {
    if (!vulkanLoaderFound()) throw new Error(VULKAN_LOADER_HINT);
    const adapter = await (await loadDawn()).create([]).requestAdapter({ powerPreference: 'high-performance' });
    if (!adapter) throw new Error(NO_ADAPTER_HINT);
    // dawn.node exposes these as prototype getters: read them one by one (a spread would see none).
    const info = adapter.info ?? adapter;
    return summarizeAdapter({
      vendor: info.vendor,
      architecture: info.architecture,
      device: info.device,
      description: info.description,
      isFallbackAdapter: info.isFallbackAdapter ?? adapter.isFallbackAdapter,
    });
  })();
  return probed;
}
