/**
 * The discriminator receptive-field table (docs/reference.md#discriminator): for each discriminator kind and depth, its
 * receptive field (computed from the layer list), output map, parameters and MACs at a given image size.
 */
import {
  countMacs,
  countParams,
  discriminatorArch,
  discriminatorShapes,
  DISCRIMINATOR_KINDS,
  type DiscriminatorKind,
  type DiscriminatorOptions,
  convOutputSide,
  receptiveField,
  resolveDiscriminator,
} from './arch.ts';

export interface RfRow {
  kind: DiscriminatorKind;
  nLayers: number;
  /** The paper's name for it, where the paper uses it. */
  paperName: string;
  receptiveField: number;
  /** Logit map side at the given image size; 0 when the net is too deep for it. */
  outputSide: number;
  params: number;
  macs: number;
}

const PAPER_NAMES: Partial<Record<DiscriminatorKind, Record<number, string>>> = {
  pixel: { 0: '1×1 PixelGAN' },
  patch: { 1: '16×16 PatchGAN', 3: '70×70 PatchGAN (default)', 5: '286×286 "ImageGAN"' },
};

/** Rows for the given depths (n_layers_D, 0 = PixelGAN), or every kind at depths up to 6. */
export function rfTable(opts: { size: number; nLayers?: number[]; base?: Partial<DiscriminatorOptions> }): RfRow[] {
  const shapes = opts.nLayers
    ? opts.nLayers.map((n) => resolveDiscriminator({ netD: 'n_layers', nLayersD: n }))
    : discriminatorShapes().filter((s) => s.nLayers <= 6);
  return shapes.map(({ kind, nLayers }) => {
    const arch = discriminatorArch({ ...opts.base, kind, nLayers });
    let h = opts.size;
    for (const l of arch.layers) h = h >= 1 ? convOutputSide(l, h) : 0;
    const outputSide = Math.max(0, h);
    return {
      kind,
      nLayers,
      paperName: PAPER_NAMES[kind]?.[nLayers] ?? '',
      receptiveField: receptiveField(arch.layers),
      outputSide,
      params: countParams(arch),
      macs: outputSide > 0 ? countMacs(arch, opts.size) : 0,
    };
  });
}

export function formatRfTable(rows: RfRow[], size: number): string {
  const head = `| n_layers_D | kind | receptive field | paper | logits at ${size}² | params | MACs at ${size}² |`;
  const sep = '|---|---|---|---|---|---|---|';
  const body = rows.map(
    (r) =>
      `| ${r.nLayers} | ${DISCRIMINATOR_KINDS[r.kind].title} | ${r.receptiveField}×${r.receptiveField} | ${r.paperName} | ${r.outputSide > 0 ? `${r.outputSide}×${r.outputSide}` : 'too deep'} | ${r.params.toLocaleString('en-US')} | ${r.macs ? r.macs.toLocaleString('en-US') : '–'} |`,
  );
  return [head, sep, ...body].join('\n');
}
