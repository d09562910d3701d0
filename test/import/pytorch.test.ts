import { describe, expect, it } from 'vitest';
import { halfToFloat, readTorchStateDict, tensorToFloat32, TorchStorage, TorchTensor } from '../../src/import/pytorch.ts';
import { isZip, listZip } from '../../src/import/zip.ts';
import { fixture } from './fixtures.ts';

describe('torch.save files', () => {
  it('reads the zip format: every tensor with its shape and dtype, storages from archive/data/N', () => {
    const bytes = fixture('unet32-batch.pth');
    expect(isZip(bytes)).toBe(true);
    expect(listZip(bytes).map((e) => e.name)).toContain('unet32-batch/data.pkl');
    const sd = readTorchStateDict(bytes);
    expect(sd.size).toBe(46);
    expect(sd.get('model.model.0.weight')!.shape).toEqual([2, 3, 4, 4]);
    expect(sd.get('model.model.0.weight')!.dtype).toBe('float32');
    expect(sd.get('model.model.1.model.2.num_batches_tracked')!.dtype).toBe('int64');
    expect(tensorToFloat32(sd.get('model.model.1.model.2.num_batches_tracked')!)).toEqual(Float32Array.of(5)); // five training passes
    const rv = tensorToFloat32(sd.get('model.model.1.model.2.running_var')!);
    expect(rv.every((v) => v > 0)).toBe(true);
  });

  it('reads the legacy format and float16 (HalfStorage) files of the same state_dict consistently', () => {
    const legacy = readTorchStateDict(fixture('unet64-instance-legacy.pth'));
    const half = readTorchStateDict(fixture('unet64-instance-half.pth'));
    expect([...half.keys()]).toEqual([...legacy.keys()]);
    for (const [k, t] of legacy) {
      expect(t.dtype).toBe('float32');
      expect(half.get(k)!.dtype).toBe('float16');
      expect(half.get(k)!.shape).toEqual(t.shape);
      const a = tensorToFloat32(t);
      const b = tensorToFloat32(half.get(k)!);
      for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i])).toBeLessThanOrEqual(Math.abs(a[i]) * 2 ** -11 + 2 ** -25);
    }
  });

  it('inflates deflated entries (a .pth re-zipped by a zip tool)', () => {
    const sd = readTorchStateDict(fixture('bn-deflated.pth'));
    expect(Array.from(tensorToFloat32(sd.get('weight')!))).toEqual([1.5, -2]);
    expect(Array.from(tensorToFloat32(sd.get('bias')!))).toEqual([0.25, 0]);
    expect(Array.from(tensorToFloat32(sd.get('running_var')!))).toEqual([1, 1]);
  });

  it('decodes float16 bit patterns', () => {
    expect(halfToFloat(0x3c00)).toBe(1);
    expect(halfToFloat(0xc000)).toBe(-2);
    expect(halfToFloat(0x7bff)).toBe(65504);
    expect(halfToFloat(0x0001)).toBe(2 ** -24);
    expect(halfToFloat(0x7c00)).toBe(Infinity);
  });

  it('applies strides and offsets of non-contiguous tensors', () => {
    const s = new TorchStorage('0', 'float32', 4, 6);
    s.bytes = new Uint8Array(Float32Array.of(0, 1, 2, 3, 4, 5).buffer);
    // A transposed 2×3 view (shape [3, 2], stride [1, 3]) starting at 0, and a row at offset 3.
    expect(Array.from(tensorToFloat32(new TorchTensor(s, 0, [3, 2], [1, 3])))).toEqual([0, 3, 1, 4, 2, 5]);
    expect(Array.from(tensorToFloat32(new TorchTensor(s, 3, [3], [1])))).toEqual([3, 4, 5]);
    expect(() => tensorToFloat32(new TorchTensor(s, 4, [3], [1]))).toThrow(/past the end/);
  });

  it('refuses, in one line, a file whose pickle would call os.system', () => {
    expect(() => readTorchStateDict(fixture('evil.pth'))).toThrow(/^refusing to unpickle: global posix\.system is not allowed/);
  });

  it('says what is wrong with files that are not torch checkpoints or are truncated', () => {
    expect(() => readTorchStateDict(new TextEncoder().encode('hello'))).toThrow(/not a PyTorch checkpoint/);
    const zip = fixture('unet32-batch.pth');
    expect(() => readTorchStateDict(zip.subarray(0, zip.length - 30))).toThrow(/zip: /);
    const legacy = fixture('unet64-instance-legacy.pth');
    expect(() => readTorchStateDict(legacy.subarray(0, legacy.length - 100))).toThrow(/truncated/);
  });
});
