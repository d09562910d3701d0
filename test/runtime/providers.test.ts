import { spawnSync } from 'node:child_process';
import { existsSync, promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { exportConvNetOnnx, generatorSpec } from '../../src/export/export.ts';
import { generatorArch } from '../../src/nets/arch.ts';
import { chooseProvider, type ProviderName, type ProviderProbes } from '../../src/runtime/providers.ts';
import { NO_ADAPTER_HINT } from '../../src/util/webgpu.ts';
import { randomParams } from '../export/fixtures.ts';

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

  it('auto skips the WebGPU probe where no GPU can exist, saying so truthfully', async () => {
    const f = factory();
    let probed = false;
    const noGpu: ProviderProbes = {
      ...probes(false, false),
      webgpuAdapter: async () => {
        probed = true;
        throw new Error('unreachable');
      },
      noGpuDevice: () => 'no GPU device here (no /dev/dri, no /dev/nvidia0, VK_ICD_FILENAMES not set)',
    };
    const r = await chooseProvider('auto', noGpu, f.create);
    expect(probed).toBe(false);
    expect(r.skipped).toEqual([
      'cuda: its provider library is not installed',
      'webgpu: no GPU device here (no /dev/dri, no /dev/nvidia0, VK_ICD_FILENAMES not set)',
    ]);
  });

  it("auto's skip reason does not suggest a software driver (auto would not take one)", async () => {
    const r = await chooseProvider('auto', { ...probes(false, false), webgpuAdapter: () => Promise.reject(new Error(NO_ADAPTER_HINT)) }, factory().create);
    expect(r.skipped[1]).toBe('webgpu: no WebGPU adapter: no usable Vulkan/Metal/D3D12 driver');
  });
});

const gpuDevicePossible = existsSync('/dev/dri') || existsSync('/dev/nvidia0');

describe.skipIf(gpuDevicePossible)(
  `infer on a machine without a GPU device${gpuDevicePossible ? ' (skipped: /dev/dri or /dev/nvidia0 exists here)' : ''}`,
  () => {
    it('`infer --provider auto` prints no Dawn/Vulkan noise, with or without --quiet, and names why webgpu was skipped', async () => {
      const root = await fsp.mkdtemp(path.join(os.tmpdir(), 'p2p-nogpu-'));
      const arch = generatorArch({ depth: 3, ngf: 2 });
      const model = path.join(root, 'g.onnx');
      await fsp.writeFile(model, exportConvNetOnnx(generatorSpec(arch, randomParams(arch, 1), { size_multiple: '8' })));
      const input = path.join(root, 'in');
      await fsp.mkdir(input);
      await sharp({ create: { width: 16, height: 16, channels: 3, background: '#336699' } })
        .png()
        .toFile(path.join(input, 'a.png'));
      const env = { ...process.env };
      delete env.VK_ICD_FILENAMES;
      delete env.VK_DRIVER_FILES;
      const bin = path.resolve('bin/pix2pix.mjs');
      for (const quiet of [true, false]) {
        const out = path.join(root, `out-${quiet}`);
        const r = spawnSync(process.execPath, [bin, 'infer', '--model', model, '--input', input, '--output', out, ...(quiet ? ['--quiet'] : [])], {
          encoding: 'utf8',
          env,
        });
        expect(r.status, r.stderr).toBe(0);
        // Dawn's lines name Vulkan, its ICDs and vk* calls; ours names only the variable it looked at.
        expect(r.stderr.replaceAll('VK_ICD_FILENAMES not set', '')).not.toMatch(/vulkan|dawn|vk|icd|adapter/i);
        if (quiet) expect(r.stderr).toBe('');
        else expect(r.stderr).toContain('webgpu: no GPU device here (no /dev/dri, no /dev/nvidia0, VK_ICD_FILENAMES not set)');
      }
      await fsp.rm(root, { recursive: true, force: true });
    });
  },
);
