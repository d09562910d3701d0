/**
 * The discriminator receptive-field table (docs/reference.md#discriminator): for each discriminator kind and depth, its
 * receptive field (computed from the layer lists), output maps, parameters and MACs at a given image size.
 */
import {
  countMacs,
  countParams,
  discriminatorArch,
  DISCRIMINATOR_KINDS,
  discriminatorReceptiveField,
  discriminatorShapes,
  type DiscriminatorKind,
  type DiscriminatorOptions,
  resolveDiscriminator,
  scaleOutputSides,
  scaleReceptiveFields,
} from './arch.ts';

export interface RfRow {
  kind: DiscriminatorKind;
  nLayers: number;
  /** The paper's name for it, where the paper uses it. */
  paperName: string;
  /** The largest over its scales, in input pixels (see `scaleReceptiveFields`). */
  receptiveField: number;
  /** Logit map side at the given image size; 0 when the net is too deep for it. */
  outputSide: number;
  /** Receptive field and logit map side of each scale (one entry for one-scale kinds). */
  scales: { receptiveField: number; outputSide: number }[];
  params: number;
  macs: number;
}

const PAPER_NAMES: Partial<Record<DiscriminatorKind, Record<number, string>>> = {
  pixel: { 0: '1×1 PixelGAN' },
  patch: { 1: '16×16 PatchGAN', 3: '70×70 PatchGAN (default)', 5: '286×286 "ImageGAN"' },
};

type Shape = Pick<DiscriminatorOptions, 'kind' | 'nLayers'>;

/**
 * Rows for the given shapes, or the given depths of the n_layers family (0 = PixelGAN), or every
 * kind at depths up to 6: the one-scale kinds first (the receptive fields `--rf` chooses from), then
 * the kinds of several scales.
 */
export function rfTable(opts: { size: number; shapes?: Shape[]; nLayers?: number[]; base?: Partial<DiscriminatorOptions> }): RfRow[] {
  const shapes =
    opts.shapes ?? opts.nLayers?.map((n) => resolveDiscriminator({ netD: 'n_layers', nLayersD: n })) ?? discriminatorShapes().filter((s) => s.nLayers <= 6);
  const archs = shapes.map(({ kind, nLayers }) => discriminatorArch({ ...opts.base, kind, nLayers }));
  const ordered = opts.shapes || opts.nLayers ? archs : [...archs.filter((a) => a.scales.length === 1), ...archs.filter((a) => a.scales.length > 1)];
  return ordered.map((arch) => {
    const { kind, nLayers } = arch.options;
    const sides = scaleOutputSides(arch, opts.size);
    const fields = scaleReceptiveFields(arch);
    // A net fits the input only if every scale still has a logit map.
    const fits = sides.every((s) => s > 0);
    return {
      kind,
      nLayers,
      paperName: PAPER_NAMES[kind]?.[nLayers] ?? '',
      receptiveField: discriminatorReceptiveField(arch),
      outputSide: fits ? sides[0] : 0,
      scales: fields.map((receptiveField, k) => ({ receptiveField, outputSide: sides[k] })),
      params: countParams(arch),
      macs: fits ? countMacs(arch, opts.size) : 0,
    };
  });
}

export function formatRfTable(rows: RfRow[], size: number): string {
  const head = `| n_layers_D | kind | receptive field | paper | logits at ${size}² | params | MACs at ${size}² |`;
  const sep = '|---|---|---|---|---|---|---|';
  const each = (r: RfRow, cell: (s: RfRow['scales'][number]) => string): string => r.scales.map(cell).join(' / ');
  const body = rows.map(
    (r) =>
      `| ${r.nLayers} | ${DISCRIMINATOR_KINDS[r.kind].title}${r.scales.length > 1 ? `, ${r.scales.length} scales` : ''} | ${each(r, (s) => `${s.receptiveField}×${s.receptiveField}`)} | ${r.paperName} | ${r.macs ? each(r, (s) => `${s.outputSide}×${s.outputSide}`) : 'too deep'} | ${r.params.toLocaleString('en-US')} | ${r.macs ? r.macs.toLocaleString('en-US') : '–'} |`,
  );
  return [head, sep, ...body].join('\n');
}
