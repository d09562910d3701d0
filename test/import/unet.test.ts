import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { TorchStorage, TorchTensor } from '../../src/import/pytorch.ts';
import { importUNet, torchToTfjsWeight } from '../../src/import/unet.ts';
import { tfjsToOnnxWeight } from '../../src/onnx/graph.ts';
import { FIXTURES } from './fixtures.ts';

/** Key → shape lists of real PyTorch-repo UnetGenerators (ngf 1), written by the fixture script. */
const KEYS = JSON.parse(readFileSync(path.join(FIXTURES, 'unet-keys.json'), 'utf8')) as Record<string, [string, number[]][]>;

/** A state_dict with those keys and shapes; every value = its tensor's index + 1 (so mix-ups show). */
function stateDict(entries: readonly [string, readonly number[]][]): Map<string, TorchTensor> {
  return new Map(
    entries.map(([k, shape], i) => {
      const n = shape.reduce((a, b) => a * b, 1);
      const s = new TorchStorage(String(i), 'float32', 4, n);
      s.bytes = new Uint8Array(new Float32Array(n).fill(i + 1).buffer);
      const stride = shape.map((_, d) => shape.slice(d + 1).reduce((a, b) => a * b, 1));
      return [k, new TorchTensor(s, 0, shape, stride)];
    }),
  );
}

describe('PyTorch UnetGenerator key names → architecture', () => {
  it('unet_256: depth 8, dropout after d2–d4, each layer taken from its module', () => {
    const sd = stateDict(KEYS.unet_256);
    const { arch, params, tensorCount } = importUNet(sd);
    expect(arch.options).toMatchObject({ depth: 8, ngf: 1, norm: 'batch', inChannels: 3, outChannels: 3, concatOrder: 'skip-first', bias: 'pytorch' });
    expect(arch.decoder.filter((l) => l.dropout).map((l) => l.name)).toEqual(['d2', 'd3', 'd4']);
    // Every stored tensor but the step counters is used.
    expect(tensorCount).toBe(KEYS.unet_256.filter(([k]) => !k.endsWith('num_batches_tracked')).length);
    const valueOf = (key: string): number => KEYS.unet_256.findIndex(([k]) => k === key) + 1;
    const deep = 'model.model.1.model.3.model.3.model.3.model.3.model.3.model.3.model';
    expect(params.get('e8.weight')![0]).toBe(valueOf(`${deep}.1.weight`));
    expect(params.get('d1.weight')![0]).toBe(valueOf(`${deep}.3.weight`));
    expect(params.get('d1.gamma')![0]).toBe(valueOf(`${deep}.4.weight`));
    expect(params.get('e2.running_var')![0]).toBe(valueOf('model.model.1.model.2.running_var'));
    expect(params.get('d7.beta')![0]).toBe(valueOf('model.model.1.model.6.bias'));
    expect(params.get('d8.bias')![0]).toBe(valueOf('model.model.3.bias'));
    expect(params.has('e1.bias')).toBe(false);
  });

  it('unet_128: depth 7, dropout after d2–d3', () => {
    const { arch } = importUNet(stateDict(KEYS.unet_128));
    expect(arch.options.depth).toBe(7);
    expect(arch.decoder.filter((l) => l.dropout).map((l) => l.name)).toEqual(['d2', 'd3']);
  });

  it('accepts the DataParallel `module.` prefix', () => {
    expect(importUNet(stateDict(KEYS.unet_128.map(([k, s]) => [`module.${k}`, s]))).arch.options.depth).toBe(7);
  });

  it('says which tensor is missing, misshapen or unexpected, in one line', () => {
    const entries = KEYS.unet_128;
    expect(() => importUNet(stateDict(entries.filter(([k]) => k !== 'model.model.1.model.6.running_mean')))).toThrow(
      /^missing tensor model\.model\.1\.model\.6\.running_mean for a batch-norm unet_128 with ngf 1$/,
    );
    const wrong = entries.map(([k, s]): [string, number[]] => (k === 'model.model.1.model.1.weight' ? [k, [3, 1, 4, 4]] : [k, s]));
    expect(() => importUNet(stateDict(wrong))).toThrow(/tensor model\.model\.1\.model\.1\.weight has shape \[3, 1, 4, 4\], expected \[2, 1, 4, 4\]/);
    expect(() => importUNet(stateDict([...entries, ['model.extra.weight', [2]]]))).toThrow(/unexpected tensor model\.extra\.weight/);
  });

  it('recognises other networks and says what to pass instead', () => {
    const resnet: [string, number[]][] = [
      ['model.1.weight', [64, 3, 7, 7]],
      ['model.2.weight', [64]],
    ];
    expect(() => importUNet(stateDict(resnet))).toThrow(/ResnetGenerator checkpoint/);
    const patchgan: [string, number[]][] = [
      ['model.0.weight', [64, 6, 4, 4]],
      ['model.0.bias', [64]],
    ];
    expect(() => importUNet(stateDict(patchgan))).toThrow(/not a pix2pix U-Net generator state_dict.*latest_net_G\.pth/);
  });
});

describe('torchToTfjsWeight', () => {
  it('is the inverse of the export permutation, for Conv [out,in,k,k] and ConvTranspose [in,out,k,k] alike', () => {
    const shape = [3, 2, 4, 4];
    const w = Float32Array.from({ length: 96 }, (_, i) => i);
    const tf = torchToTfjsWeight(w, shape);
    // tfjs [k,k,B,A] → ONNX [A,B,k,k] is the export's permutation: the round trip is the identity.
    expect(Array.from(tfjsToOnnxWeight(tf, [4, 4, 2, 3]))).toEqual(Array.from(w));
    // Element [a=1, b=0, y=2, x=3] of the torch tensor lands at tfjs [2, 3, 0, 1].
    expect(tf[((2 * 4 + 3) * 2 + 0) * 3 + 1]).toBe(w[((1 * 2 + 0) * 4 + 2) * 4 + 3]);
  });
});
