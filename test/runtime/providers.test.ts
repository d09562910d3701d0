import { describe, expect, it } from 'vitest';
import { chooseProvider, type ProviderName, type ProviderProbes } from '../../src/runtime/providers.ts';

type Adapter = 'hardware' | 'software' | 'none';

function probes(cudaLibrary: boolean, gpu: boolean, webgpu: Adapter = 'none'): ProviderProbes {
  return {
    cudaLibraryPresent: () => cudaLibrary,
    nvidiaGpuPresent: () => gpu,
    webgpuAdapter: async () => {
      if (webgpu === 'none') throw new Error('no WebGPU adapter: no usable Vulkan/Metal/D3D12 driver');
      return webgpu === 'hardware' ? { name: 'nvidia hopper', software: false } : { name: 'google swiftshader (software)', software: true };
    },
  };
}

/** A fake session factory: providers in `broken` throw like onnxruntime-node does. */
function factory(broken: ProviderName[] = []) {
  const tried: ProviderName[] = [];
  const create = async (p: ProviderName): Promise<string> => {
    tried.push(p);
    if (broken.includes(p)) throw new Error(`${p} EP failed to initialise\nstack...`);
    return `session on ${p}`;
  };
  return { tried, create };
}

describe('provider policy (cuda > webgpu on a hardware adapter > cpu)', () => {
  it('auto picks CUDA when its library and a GPU are present', async () => {
    const f = factory();
    const r = await chooseProvider('auto', probes(true, true), f.create);
    expect(r.provider).toBe('cuda');
    expect(r.value).toBe('session on cuda');
    expect(f.tried).toEqual(['cuda']);
  });

  it('auto uses the CPU, without trying CUDA, when the library or the GPU is missing, and says why', async () => {
    for (const [lib, gpu, why] of [
      [false, true, /not installed/],
      [true, false, /no NVIDIA GPU/],
    ] as const) {
      const f = factory();
      const r = await chooseProvider('auto', probes(lib, gpu), f.create);
      expect(r.provider).toBe('cpu');
      expect(f.tried).toEqual(['cpu']);
      expect(r.skipped.join()).toMatch(why);
      expect(r.skipped.join()).toMatch(/webgpu: no WebGPU adapter/);
    }
  });

  it('auto takes webgpu on a hardware adapter when CUDA is missing, and names the adapter', async () => {
    const f = factory();
    const r = await chooseProvider('auto', probes(false, false, 'hardware'), f.create);
    expect(r.provider).toBe('webgpu');
    expect(r.device).toBe('nvidia hopper');
    expect(f.tried).toEqual(['webgpu']);
    expect(r.skipped).toEqual(['cuda: its provider library is not installed']);
    // CUDA still comes first when it is there.
    const g = factory();
    expect((await chooseProvider('auto', probes(true, true, 'hardware'), g.create)).provider).toBe('cuda');
  });

  it('auto never takes a software adapter (SwiftShader), and says so', async () => {
    const f = factory();
    const r = await chooseProvider('auto', probes(false, false, 'software'), f.create);
    expect(r.provider).toBe('cpu');
    expect(f.tried).toEqual(['cpu']);
    expect(r.skipped[1]).toBe('webgpu: only a software adapter (google swiftshader (software)); auto takes webgpu on a GPU only');
  });

  it('auto falls back from a webgpu session that fails to the CPU', async () => {
    const f = factory(['webgpu']);
    const r = await chooseProvider('auto', probes(false, false, 'hardware'), f.create);
    expect(r.provider).toBe('cpu');
    expect(f.tried).toEqual(['webgpu', 'cpu']);
    expect(r.skipped[1]).toBe('webgpu: webgpu EP failed to initialise');
  });

  it('auto falls back when creating the CUDA session fails: to webgpu on a GPU adapter, else to the CPU', async () => {
    const f = factory(['cuda']);
    const r = await chooseProvider('auto', probes(true, true), f.create);
    expect(r.provider).toBe('cpu');
    expect(f.tried).toEqual(['cuda', 'cpu']);
    expect(r.skipped[0]).toBe('cuda: cuda EP failed to initialise');
    const g = factory(['cuda']);
    expect((await chooseProvider('auto', probes(true, true, 'hardware'), g.create)).provider).toBe('webgpu');
    expect(g.tried).toEqual(['cuda', 'webgpu']);
  });

  it('an explicit cuda request without CUDA is a one-line error pointing at npm run setup:gpu, with no fallback', async () => {
    const f = factory();
    await expect(chooseProvider('cuda', probes(false, false), f.create)).rejects.toThrow(
      /^CUDA execution provider not available \(its provider library is not installed\): run `npm run setup:gpu` on a machine with an NVIDIA GPU and CUDA 12$/,
    );
    expect(f.tried).toEqual([]);
    const g = factory(['cuda']);
    await expect(chooseProvider('cuda', probes(true, true), g.create)).rejects.toThrow(
      /CUDA execution provider not available \(cuda EP failed to initialise\)/,
    );
    expect(g.tried).toEqual(['cuda']);
  });

  it('an explicit webgpu request takes a software adapter too; no adapter or a failing session is an error, not a fallback', async () => {
    const ok = factory();
    const r = await chooseProvider('webgpu', probes(false, false, 'software'), ok.create);
    expect(r.provider).toBe('webgpu');
    expect(r.device).toBe('google swiftshader (software)');
    const none = factory();
    await expect(chooseProvider('webgpu', probes(false, false, 'none'), none.create)).rejects.toThrow(
      /^WebGPU execution provider not available \(no WebGPU adapter: .*\); use --provider cpu/,
    );
    expect(none.tried).toEqual([]);
    const bad = factory(['webgpu']);
    await expect(chooseProvider('webgpu', probes(false, false, 'hardware'), bad.create)).rejects.toThrow(
      /WebGPU execution provider not available.*--provider cpu/,
    );
  });

  it('cpu is used as asked; an unknown name is rejected', async () => {
    const f = factory();
    expect((await chooseProvider('cpu', probes(true, true), f.create)).provider).toBe('cpu');
    expect(f.tried).toEqual(['cpu']);
    await expect(chooseProvider('tpu' as never, probes(true, true), f.create)).rejects.toThrow(/unknown --provider 'tpu'/);
  });
});
