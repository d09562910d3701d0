import { describe, expect, it } from 'vitest';
import { chooseProvider, type ProviderName, type ProviderProbes } from '../../src/runtime/providers.ts';

function probes(cudaLibrary: boolean, gpu: boolean): ProviderProbes {
  return { cudaLibraryPresent: () => cudaLibrary, nvidiaGpuPresent: () => gpu };
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

describe('provider policy (cuda > webgpu > cpu)', () => {
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
    }
  });

  it('auto falls back to the CPU when creating the CUDA session fails, and never tries webgpu', async () => {
    const f = factory(['cuda']);
    const r = await chooseProvider('auto', probes(true, true), f.create);
    expect(r.provider).toBe('cpu');
    expect(f.tried).toEqual(['cuda', 'cpu']);
    expect(r.skipped).toEqual(['cuda: cuda EP failed to initialise']);
  });

  it('an explicit cuda request without CUDA is a one-line error pointing at npm run setup:gpu, with no fallback', async () => {
    const f = factory();
    await expect(chooseProvider('cuda', probes(false, false), f.create)).rejects.toThrow(
      /^CUDA execution provider not available \(its provider library is not installed\): run `npm run setup:gpu` on a machine with an NVIDIA GPU and CUDA 12$/,
    );
    expect(f.tried).toEqual([]);
    const g = factory(['cuda']);
    await expect(chooseProvider('cuda', probes(true, true), g.create)).rejects.toThrow(/CUDA execution provider not available \(cuda EP failed to initialise\)/);
    expect(g.tried).toEqual(['cuda']);
  });

  it('webgpu is used only when asked for, and its failure is an error, not a fallback', async () => {
    const ok = factory();
    expect((await chooseProvider('webgpu', probes(false, false), ok.create)).provider).toBe('webgpu');
    const bad = factory(['webgpu']);
    await expect(chooseProvider('webgpu', probes(false, false), bad.create)).rejects.toThrow(/WebGPU execution provider not available.*--provider cpu/);
  });

  it('cpu is used as asked; an unknown name is rejected', async () => {
    const f = factory();
    expect((await chooseProvider('cpu', probes(true, true), f.create)).provider).toBe('cpu');
    expect(f.tried).toEqual(['cpu']);
    await expect(chooseProvider('tpu' as never, probes(true, true), f.create)).rejects.toThrow(/unknown --provider 'tpu'/);
  });
});
