/**
 * The WebGPU training engine: @tensorflow/tfjs-backend-webgpu on Dawn's Node binding. Needs no CUDA:
 * any Vulkan (Linux), Metal (macOS) or D3D12 (Windows) driver. Reads from the GPU must be async
 * (`data()`): a synchronous read throws in Node, so the trainer reads losses every few steps.
 */
import * as tf from '../tfjs.ts';
import { describeAdapter, installWebgpuGlobals, probeWebgpuAdapter } from '../../util/webgpu.ts';

/**
 * Probe the adapter, then import the backend (it registers itself only if `navigator.gpu` exists
 * at import time). A software adapter (SwiftShader, lavapipe) is refused unless `allowSoftware`:
 * `--engine auto` wants a GPU, and on a CPU the wasm engine is faster. Returns the adapter, for the log.
 */
export async function loadWebgpuEngine(opts: { allowSoftware: boolean }): Promise<string> {
  const adapter = await probeWebgpuAdapter();
  if (adapter.software && !opts.allowSoftware) {
    throw new Error(`only a software adapter (${describeAdapter(adapter)}): auto takes webgpu on a GPU only; pass --engine webgpu to use it anyway`);
  }
  await installWebgpuGlobals();
  await import('@tensorflow/tfjs-backend-webgpu');
  const { registerWebgpuKernels } = await import('./webgpu-kernels.ts');
  registerWebgpuKernels();
  return describeAdapter(adapter);
}

interface WebgpuBackendInternals {
  pipelineCache?: Record<string, unknown>;
}

/** Number of compiled compute pipelines (one per shader variant): it stops growing after warm-up. */
export function webgpuPipelineCount(): number {
  const cache = (tf.backend() as unknown as WebgpuBackendInternals).pipelineCache;
  if (!cache) throw new Error('the active tfjs backend is not webgpu');
  return Object.keys(cache).length;
}
