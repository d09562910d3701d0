import { describe, expect, it } from 'vitest';
import { isSoftwareAdapter, surelyNoGpu } from '../../src/util/webgpu.ts';

describe('surelyNoGpu: when training auto skips the WebGPU probe', () => {
  const none = (): boolean => false;
  const only = (p: string) => (q: string) => q === p;

  it('Linux with no /dev/dri, no /dev/nvidia0 and no Vulkan driver named: no GPU can be there', () => {
    expect(surelyNoGpu({}, none, 'linux')).toBe(true);
  });

  it('a DRM node, an NVIDIA node or a driver named in the environment: probe', () => {
    expect(surelyNoGpu({}, only('/dev/dri'), 'linux')).toBe(false);
    expect(surelyNoGpu({}, only('/dev/nvidia0'), 'linux')).toBe(false);
    expect(surelyNoGpu({ VK_ICD_FILENAMES: '/usr/lib/chromium/vk_swiftshader_icd.json' }, none, 'linux')).toBe(false);
    expect(surelyNoGpu({ VK_DRIVER_FILES: '/x.json' }, none, 'linux')).toBe(false);
  });

  it('macOS and Windows have no such nodes (Metal, D3D12): always probe', () => {
    expect(surelyNoGpu({}, none, 'darwin')).toBe(false);
    expect(surelyNoGpu({}, none, 'win32')).toBe(false);
  });
});

describe('isSoftwareAdapter', () => {
  it('flags SwiftShader, lavapipe and fallback adapters, not a real GPU', () => {
    expect(isSoftwareAdapter({ vendor: 'google', architecture: 'swiftshader' })).toBe(true);
    expect(isSoftwareAdapter({ vendor: 'mesa', architecture: '', description: 'llvmpipe (LLVM 15.0.6, 256 bits)' })).toBe(true);
    expect(isSoftwareAdapter({ vendor: 'nvidia', architecture: 'hopper', isFallbackAdapter: true })).toBe(true);
    expect(isSoftwareAdapter({ vendor: 'nvidia', architecture: 'hopper' })).toBe(false);
  });
});
