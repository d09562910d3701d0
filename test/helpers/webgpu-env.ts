/**
 * WebGPU in tests: Debian's chromium package ships SwiftShader's Vulkan driver, a software adapter
 * that runs anywhere. Point the Vulkan loader at it (unless the caller already chose a driver), so the
 * webgpu tests run in CI. Import this before anything creates a Dawn instance.
 */
import { existsSync } from 'node:fs';
import { vulkanLoaderFound } from '../../src/util/webgpu.ts';

export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

if (!process.env.VK_ICD_FILENAMES && existsSync(SWIFTSHADER_ICD)) process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;

/**
 * Why no WebGPU adapter can exist here (the test is then skipped with this reason), or undefined.
 * In CI (CI=true) nothing is an excuse: .ci/run installs chromium and libvulkan1, so the tests must run.
 */
export function noWebgpuReason(): string | undefined {
  if (process.env.CI) return undefined;
  if (!process.env.VK_ICD_FILENAMES && !existsSync(SWIFTSHADER_ICD))
    return `no Vulkan driver chosen (VK_ICD_FILENAMES unset) and no SwiftShader ICD at ${SWIFTSHADER_ICD} (apt-get install chromium)`;
  if (!vulkanLoaderFound()) return 'no Vulkan loader libvulkan.so.1 (apt-get install libvulkan1)';
  return undefined;
}
