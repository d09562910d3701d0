import { describe, expect, it } from 'vitest';
import { exportConvNetOnnx, generatorSpec, modelMetadata } from '../../src/export/export.ts';
import { generatorArch } from '../../src/nets/arch.ts';
import type { CheckpointModel } from '../../src/train/checkpoint.ts';
import { FACADES_PALETTE, findModel } from '../../src/pull/catalog.ts';
import { modelCard } from '../../src/pull/pull.ts';
import { describeModel, readModelCard, readModelMetadata, sizeNote } from '../../web/src/model-info.ts';
import { randomParams } from '../export/fixtures.ts';

const arch = generatorArch({ depth: 5, ngf: 4 });

/** Metadata exactly as `pix2pix export` writes it for a checkpoint with this training config. */
function exportedMeta(config: Record<string, unknown>): Record<string, string> {
  const model: CheckpointModel = { kind: 'pix2pix', generator: arch.options, discriminator: null, config, epoch: 3, version: '0.1.0' };
  return generatorSpec(arch, randomParams(arch, 1), modelMetadata(model, 'G')).metadata;
}

describe('describeModel', () => {
  it('reads a synthetic-streets BtoA export as labels → photo at its training size', () => {
    const info = describeModel(exportedMeta({ data: 'data/synth', direction: 'BtoA', size: 64, netG: 'unet_32' }));
    expect(info).toMatchObject({
      input: 'labels',
      output: 'image',
      size: 64,
      sizeMultiple: 32,
      inputChannels: 3,
      outputChannels: 3,
      direction: 'BtoA',
      epoch: 3,
      netG: 'unet_32',
      fromPix2pixTs: true,
    });
  });

  it('reads a Cityscapes AtoB export as photo → labels', () => {
    const info = describeModel(exportedMeta({ data: '/datasets/cityscapes', direction: 'AtoB', size: 256 }));
    expect(info).toMatchObject({ input: 'image', output: 'labels', size: 256 });
  });

  it('treats other data as image → image and falls back to 256 rounded to the size multiple', () => {
    const info = describeModel(exportedMeta({ data: 'data/facades', direction: 'BtoA' }));
    expect(info).toMatchObject({ input: 'image', output: 'image', size: 256 });
    expect(describeModel({ size_multiple: '96' }).size).toBe(288);
    // A recorded size the net cannot take is not used.
    expect(describeModel({ size_multiple: '32', image_size: '100' }).size).toBe(256);
  });

  it('lets explicit input_kind / output_kind override the guess, and survives foreign models', () => {
    expect(describeModel({ ...exportedMeta({ data: 'x', direction: 'AtoB' }), input_kind: 'labels' })).toMatchObject({ input: 'labels', output: 'image' });
    expect(describeModel({ training_config: '{not json' })).toMatchObject({ input: 'image', output: 'image', size: 256, fromPix2pixTs: false });
  });
});

describe('the model card (pix2pix pull)', () => {
  const card = (name: string): Record<string, string> => ({ model_card: JSON.stringify(modelCard(findModel(name)!, `http://m/${name}.pth`, 'ab'.repeat(32))) });

  it('gives label models their palette, in the card order, as the classes to paint with', () => {
    const info = describeModel(card('facades_label2photo'));
    expect(info.input).toBe('labels');
    expect(info.reason).toBe('model card: facade labels → photo');
    expect(info.card!.palette).toHaveLength(FACADES_PALETTE.length);
    expect(info.card!.palette![2]).toEqual({ id: 2, name: 'window', color: [0, 85, 255] });
    expect(info.card!.licence).toMatch(/BSD/);
  });

  it('reads edges2* models as an edge drawing and photo models as an image, overriding the data guess', () => {
    expect(describeModel(card('edges2shoes')).input).toBe('edges');
    expect(describeModel({ ...card('sat2map'), training_config: JSON.stringify({ data: 'data/synth' }), direction: 'BtoA' }).input).toBe('image');
  });

  it('ignores a card that does not parse, and a palette with a bad colour', () => {
    expect(readModelCard({ model_card: '{oops' })).toBeUndefined();
    expect(readModelCard({})).toBeUndefined();
    const bad = readModelCard({ model_card: JSON.stringify({ input: 'labels', palette: [{ name: 'a', color: [0, 0, 300] }] }) });
    expect(bad).toEqual({ input: 'labels', card: {} });
  });
});

describe('readModelMetadata', () => {
  it('reads metadata_props from the bytes of a real export', () => {
    const meta = exportedMeta({ data: 'data/synth', direction: 'BtoA', size: 64 });
    const bytes = exportConvNetOnnx(generatorSpec(arch, randomParams(arch, 1), meta));
    const read = readModelMetadata(bytes);
    expect(read).toMatchObject(meta);
    expect(describeModel(read).input).toBe('labels');
  });

  it('throws on bytes that are not protobuf', () => {
    expect(() => readModelMetadata(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff]))).toThrow();
  });
});

describe('sizeNote', () => {
  it('warns above 100 MB only', () => {
    expect(sizeNote(100e6)).toEqual({ text: '100 MB', warn: false });
    expect(sizeNote(2.5e6)).toEqual({ text: '2.5 MB', warn: false });
    const big = sizeNote(217e6);
    expect(big.warn).toBe(true);
    expect(big.text).toMatch(/^217 MB: above 100 MB/);
  });
});
