import { describe, expect, it } from 'vitest';
import {
  countMacs,
  countParams,
  discriminatorArch,
  discriminatorInputChannels,
  discriminatorLabel,
  discriminatorOutputSide,
  discriminatorReceptiveField,
  generatorArch,
  parseNetG,
  patchDiscriminator,
  receptiveField,
  resolveDiscriminator,
  scaleInputSides,
  scaleOutputSides,
  scaleReceptiveFields,
} from '../../src/nets/arch.ts';
import { withScales } from '../export/fixtures.ts';

// Every expected number below was counted layer by layer by hand, and the totals reproduce what PyTorch
// prints for these nets (54.414 M for U-Net-256, 2.769 M for the 70×70 PatchGAN; docs/reference.md).
describe('generator parameter counts match the spec tables', () => {
  it('U-Net-256, PyTorch rules, batch norm: 54,413,955 params, 6,048,186,368 MACs', () => {
    const g = generatorArch({ depth: 8, dropout: 'pytorch', concatOrder: 'skip-first' });
    expect(countParams(g)).toBe(54_413_955);
    expect(countMacs(g, 256)).toBe(6_048_186_368);
  });
  it('U-Net-256 with instance norm: 54,409,603', () => {
    expect(countParams(generatorArch({ depth: 8, norm: 'instance' }))).toBe(54_409_603);
  });
  it('U-Net-256 with a bias on every conv (Lua tensors): 54,419,459', () => {
    expect(countParams(generatorArch({ depth: 8, bias: 'all' }))).toBe(54_419_459);
  });
  it('U-Net-128: 41,828,995 params and 1,505,755,136 MACs at 128²', () => {
    const g = generatorArch({ depth: 7 });
    expect(countParams(g)).toBe(41_828_995);
    expect(countMacs(g, 128)).toBe(1_505_755_136);
    expect(countParams(generatorArch({ depth: 7, bias: 'all' }))).toBe(41_833_475);
  });
  it('encoder-decoder 256 (Lua, biases everywhere): 39,080,963 params, 4,034,920,448 MACs', () => {
    const g = generatorArch({ depth: 8, kind: 'encoder_decoder', bias: 'all' });
    expect(countParams(g)).toBe(39_080_963);
    expect(countMacs(g, 256)).toBe(4_034_920_448);
  });
  it('U-Net-256 run on 512² costs 24,192,745,472 MACs', () => {
    expect(countMacs(generatorArch({ depth: 8 }), 512)).toBe(24_192_745_472);
  });
});

describe('generator layer rules (docs/reference.md#dropout)', () => {
  const g = generatorArch({ depth: 8 });
  it('has no norm on e1 and on the innermost e8, and none on d8, which ends in tanh', () => {
    expect(g.encoder[0].norm).toBe('none');
    expect(g.encoder[7].norm).toBe('none');
    expect(g.encoder[3].norm).toBe('batch');
    expect(g.decoder[7]).toMatchObject({ norm: 'none', post: 'tanh', bias: true, outChannels: 3 });
  });
  it('puts dropout on d1–d3 (paper) or d2–d4 (PyTorch); U-Net-128 PyTorch on d2–d3', () => {
    const drops = (a: ReturnType<typeof generatorArch>): string[] => a.decoder.filter((l) => l.dropout).map((l) => l.name);
    expect(drops(g)).toEqual(['d1', 'd2', 'd3']);
    expect(drops(generatorArch({ depth: 8, dropout: 'pytorch' }))).toEqual(['d2', 'd3', 'd4']);
    expect(drops(generatorArch({ depth: 7, dropout: 'pytorch' }))).toEqual(['d2', 'd3']);
    expect(drops(generatorArch({ depth: 8, dropout: 'none' }))).toEqual([]);
  });
  it('feeds each U-Net decoder layer the concatenation with its mirror encoder layer', () => {
    expect(g.decoder.map((l) => l.inChannels)).toEqual([512, 1024, 1024, 1024, 1024, 512, 256, 128]);
    expect(g.decoder.map((l) => l.outChannels)).toEqual([512, 512, 512, 512, 256, 128, 64, 3]);
  });
});

describe('receptiveField computes r ← (r−1)·s + k from the layer list (docs/reference.md#discriminator)', () => {
  it('gives 1, 16, 34, 70, 142, 286, 574 for n_layers 0…6', () => {
    expect([0, 1, 2, 3, 4, 5, 6].map((n) => receptiveField(discriminatorArch({ nLayers: n }).scales[0]))).toEqual([1, 16, 34, 70, 142, 286, 574]);
  });
  it('works on arbitrary stacks', () => {
    expect(receptiveField([])).toBe(1);
    expect(
      receptiveField([
        { kernel: 3, stride: 1 },
        { kernel: 3, stride: 1 },
      ]),
    ).toBe(5);
    expect(
      receptiveField([
        { kernel: 2, stride: 2 },
        { kernel: 3, stride: 1 },
      ]),
    ).toBe(6);
  });
});

describe('discriminator parameter counts and output maps (docs/reference.md#discriminator)', () => {
  const table: [number, number, number, number, number][] = [
    // n_layers, params PT BN, params PT IN, params Lua (bias everywhere), dense MACs
    [0, 9_024, 8_897, 9_153, 570_425_344],
    [1, 139_585, 139_457, 139_713, 2_247_237_632],
    [2, 666_433, 666_049, 666_817, 2_734_178_304],
    [3, 2_768_705, 2_767_809, 2_769_601, 3_197_140_992],
    [4, 6_964_033, 6_962_625, 6_965_441, 2_656_600_064],
    [5, 11_159_361, 11_157_441, 11_161_281, 2_185_527_296],
    [6, 15_354_689, 15_352_257, 15_357_121, 2_084_601_856],
  ];
  it.each(table)('n_layers %i', (n, bn, inorm, lua, macs) => {
    expect(countParams(discriminatorArch({ nLayers: n }))).toBe(bn);
    expect(countParams(discriminatorArch({ nLayers: n, norm: 'instance' }))).toBe(inorm);
    expect(countParams(discriminatorArch({ nLayers: n, bias: 'all' }))).toBe(lua);
    expect(countMacs(discriminatorArch({ nLayers: n }), 256)).toBe(macs);
  });
  it('maps a 256² input to 256, 126, 62, 30, 14, 6, 2 logits per side', () => {
    expect([0, 1, 2, 3, 4, 5, 6].map((n) => discriminatorOutputSide(discriminatorArch({ nLayers: n }), 256))).toEqual([256, 126, 62, 30, 14, 6, 2]);
  });
  it('rejects a discriminator too deep for the image with a one-line error', () => {
    expect(() => discriminatorOutputSide(discriminatorArch({ nLayers: 7 }), 256)).toThrow(/too deep for 256×256/);
  });
  it('chooses the depth from the receptive field, and rejects fields no PatchGAN has', () => {
    expect(patchDiscriminator({ receptiveField: 70 }).options.nLayers).toBe(3);
    expect(patchDiscriminator({ receptiveField: 1 }).options.nLayers).toBe(0);
    expect(patchDiscriminator({ receptiveField: 286 }).options.nLayers).toBe(5);
    expect(() => patchDiscriminator({ receptiveField: 64 })).toThrow(/choose one of 1, 16, 34, 70/);
  });
  it('unconditional D sees only B (3 channels)', () => {
    expect(discriminatorInputChannels(discriminatorArch({ conditional: false }))).toBe(3);
    expect(discriminatorInputChannels(discriminatorArch())).toBe(6);
  });
});

describe('a discriminator of several scales (pix2pixHD: the input average-pooled 3×3, stride 2, between scales)', () => {
  const d70 = discriminatorArch({ nLayers: 3 });
  it('sees the input at full, half and quarter size (odd sides round up)', () => {
    expect(scaleInputSides(withScales(d70, 3), 256)).toEqual([256, 128, 64]);
    expect(scaleInputSides(withScales(d70, 3), 33)).toEqual([33, 17, 9]);
  });
  it('counts its receptive fields in input pixels, each downsampling a 3×3 stride-2 layer: 70, 2·69 + 3, 2·140 + 3', () => {
    expect(scaleReceptiveFields(withScales(d70, 3))).toEqual([70, 141, 283]);
    expect(discriminatorReceptiveField(withScales(d70, 3))).toBe(283);
    expect(discriminatorReceptiveField(d70)).toBe(70);
  });
  it('has one logit map per scale, 30², 14² and 6² at 256²', () => {
    expect(scaleOutputSides(withScales(d70, 3), 256)).toEqual([30, 14, 6]);
    expect(discriminatorOutputSide(withScales(d70, 3), 256)).toBe(30);
  });
  it('sums parameters and MACs over its scales', () => {
    expect(countParams(withScales(d70, 2))).toBe(2 * 2_768_705);
    // The 70×70 stack at 128²: 64·64²·6·16 + 128·32²·64·16 + 256·16²·128·16 + 512·15²·256·16 + 1·14²·512·16.
    const at128 = 64 * 64 * 64 * 6 * 16 + 128 * 32 * 32 * 64 * 16 + 256 * 16 * 16 * 128 * 16 + 512 * 15 * 15 * 256 * 16 + 14 * 14 * 512 * 16;
    expect(countMacs(d70, 128)).toBe(at128);
    expect(countMacs(withScales(d70, 2), 256)).toBe(3_197_140_992 + at128);
  });
  it('is too deep when any scale is, naming that scale', () => {
    expect(discriminatorOutputSide(d70, 32)).toBe(2);
    expect(() => discriminatorOutputSide(withScales(d70, 2), 32)).toThrow(
      /141×141 discriminator .* too deep for 32×32 images: its scale 1 \(16×16\) layer scale1\.c5/,
    );
  });
  it('says how many scales it has in logs', () => {
    expect(discriminatorLabel(withScales(d70, 2))).toBe('PatchGAN n_layers 3, 2 scales');
    expect(discriminatorLabel(d70)).toBe('PatchGAN n_layers 3');
    expect(discriminatorLabel(discriminatorArch({ kind: 'pixel' }))).toBe('PixelGAN');
  });
});

describe("the multi-scale PatchGAN (pix2pixHD's MultiscaleDiscriminator)", () => {
  const two = discriminatorArch({ kind: 'multiscale' });
  const three = discriminatorArch({ kind: 'multiscale', numD: 3 });
  it('is the 70×70 PatchGAN at 2 scales by default, 3 on request, each scale with weights of its own', () => {
    expect(two.options).toMatchObject({ nLayers: 3 });
    expect(two.scales.length).toBe(2);
    expect(three.scales.length).toBe(3);
    expect(two.scales[1].map((l) => l.name)).toEqual(['scale1.c1', 'scale1.c2', 'scale1.c3', 'scale1.c4', 'scale1.c5']);
    expect(three.scales[2][0].name).toBe('scale2.c1');
    expect(two.scales[0]).toEqual(discriminatorArch({ kind: 'patch', nLayers: 3 }).scales[0]);
    expect(() => discriminatorArch({ kind: 'multiscale', numD: 4 })).toThrow('a multi-scale PatchGAN has 2 or 3 scales (got 4)');
  });
  it('has receptive fields 70 and 141 (283 with a third scale), in input pixels', () => {
    expect(scaleReceptiveFields(two)).toEqual([70, 141]);
    expect(discriminatorReceptiveField(three)).toBe(283);
  });
  it('has 2 × 2,768,705 parameters, 30² and 14² logits and the MACs of the 70×70 stack at 256² plus 128²', () => {
    expect(countParams(two)).toBe(5_537_410);
    expect(countParams(three)).toBe(8_306_115);
    expect(scaleOutputSides(two, 256)).toEqual([30, 14]);
    expect(scaleOutputSides(three, 256)).toEqual([30, 14, 6]);
    // 3,197,140,992 at 256² (the PatchGAN row above) + 767,066,112 at 128².
    expect(countMacs(two, 256)).toBe(3_964_207_104);
  });
  it('is chosen by --net-d multiscale with --n-layers-d per scale, never by --rf, and logs its scales', () => {
    expect(resolveDiscriminator({ netD: 'multiscale' })).toEqual({ kind: 'multiscale', nLayers: 3 });
    expect(resolveDiscriminator({ netD: 'multiscale', nLayersD: 2 })).toEqual({ kind: 'multiscale', nLayers: 2 });
    expect(() => resolveDiscriminator({ rf: 141 })).toThrow(/no PatchGAN has a 141×141 receptive field/);
    expect(discriminatorLabel(two)).toBe('multi-scale PatchGAN n_layers 3, 2 scales');
  });
});

describe('flag parsing', () => {
  it('parses unet_N / encoder_decoder_N', () => {
    expect(parseNetG('unet_256')).toEqual({ kind: 'unet', depth: 8 });
    expect(parseNetG('encoder_decoder_64')).toEqual({ kind: 'encoder_decoder', depth: 6 });
    expect(() => parseNetG('resnet_9blocks')).toThrow(/unknown --netG/);
  });
  it('resolves --netD / --n_layers_D / --rf', () => {
    expect(resolveDiscriminator({})).toEqual({ kind: 'patch', nLayers: 3 });
    expect(resolveDiscriminator({ netD: 'pixel' })).toEqual({ kind: 'pixel', nLayers: 0 });
    expect(resolveDiscriminator({ netD: 'n_layers', nLayersD: 5 })).toEqual({ kind: 'patch', nLayers: 5 });
    expect(resolveDiscriminator({ netD: 'n_layers', nLayersD: 0 })).toEqual({ kind: 'pixel', nLayers: 0 });
    expect(resolveDiscriminator({ rf: 16 })).toEqual({ kind: 'patch', nLayers: 1 });
    expect(resolveDiscriminator({ rf: 1 })).toEqual({ kind: 'pixel', nLayers: 0 });
    expect(() => resolveDiscriminator({ netD: 'global' })).toThrow(/unknown --netD/);
  });
});

describe('default generator for a crop side', () => {
  it('is the deepest U-Net up to unet_256 whose 2^depth divides the side', async () => {
    const { defaultUnetSide, resolveTrainConfig } = await import('../../src/train/config.ts');
    expect([256, 128, 64, 48, 96, 512, 4].map(defaultUnetSide)).toEqual([256, 128, 64, 16, 32, 256, 4]);
    expect(resolveTrainConfig({ data: 'd', out: 'o', size: 48 }).netG).toBe('unet_16');
    expect(resolveTrainConfig({ data: 'd', out: 'o', size: 48, netG: 'unet_64' }).netG).toBe('unet_64');
  });
});
