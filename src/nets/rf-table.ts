/**
 * The discriminator receptive-field table (spec §2.2–§2.4): for each PatchGAN depth, its receptive field
 * (computed from the layer list), output map, parameters and MACs at a given image size.
 */
import { countMacs, countParams, discriminatorArch, type DiscriminatorOptions, convOutputSide, receptiveField } from './arch.ts';

export interface RfRow {
  nLayers: number;
  /** The paper's name for it, where the paper uses it. */
  paperName: string;
  receptiveField: number;
  /** Logit map side at the given image size; 0 when the net is too deep for it. */
  outputSide: number;
  params: number;
  macs: number;
}

const PAPER_NAMES: Record<number, string> = { 0: '1×1 PixelGAN', 1: '16×16 PatchGAN', 3: '70×70 PatchGAN (default)', 5: '286×286 "ImageGAN"' };

export function rfTable(opts: { size: number; nLayers?: number[]; base?: Partial<DiscriminatorOptions> }): RfRow[] {
  const layers = opts.nLayers ?? [0, 1, 2, 3, 4, 5, 6];
  return layers.map((n) => {
    const arch = discriminatorArch({ ...opts.base, nLayers: n });
    let h = opts.size;
    for (const l of arch.layers) h = h >= 1 ? convOutputSide(l, h) : 0;
    const outputSide = Math.max(0, h);
    return {
      nLayers: n,
      paperName: PAPER_NAMES[n] ?? '',
      receptiveField: receptiveField(arch.layers),
      outputSide,
      params: countParams(arch),
      macs: outputSide > 0 ? countMacs(arch, opts.size) : 0,
    };
  });
}

export function formatRfTable(rows: RfRow[], size: number): string {
  const head = `| n_layers_D | receptive field | paper | logits at ${size}² | params | MACs at ${size}² |`;
  const sep = '|---|---|---|---|---|---|';
  const body = rows.map(
    (r) =>
      `| ${r.nLayers} | ${r.receptiveField}×${r.receptiveField} | ${r.paperName} | ${r.outputSide > 0 ? `${r.outputSide}×${r.outputSide}` : 'too deep'} | ${r.params.toLocaleString('en-US')} | ${r.macs ? r.macs.toLocaleString('en-US') : '–'} |`,
  );
  return [head, sep, ...body].join('\n');
}
