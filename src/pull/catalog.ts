/**
 * What `pix2pix pull` and `pix2pix data download` can fetch: the pix2pix authors' published PyTorch
 * generators and paired datasets, at the paths of their download scripts
 * (scripts/download_pix2pix_model.sh, datasets/download_pix2pix_dataset.sh in
 * pytorch-CycleGAN-and-pix2pix) under a base URL that `--mirror` replaces.
 */
import { formatColumns } from '../util/text-table.ts';

/** The authors' server, as their download scripts name it. */
const DEFAULT_BASE_URL = 'http://efrosgans.eecs.berkeley.edu';

/** What a model reads: a label palette to paint with, an edge drawing, or a photo. */
export type InputKind = 'labels' | 'edges' | 'photo';

export interface PaletteEntry {
  name: string;
  color: readonly [number, number, number];
}

/**
 * The CMP Facade Database's 12 classes in the colours of the pix2pix facades set's label images (B):
 * the database's own colour map, a jet ramp over class ids 1–12 (background … shop).
 */
export const FACADES_PALETTE: readonly PaletteEntry[] = [
  { name: 'background', color: [0, 0, 170] },
  { name: 'facade', color: [0, 0, 255] },
  { name: 'window', color: [0, 85, 255] },
  { name: 'door', color: [0, 170, 255] },
  { name: 'cornice', color: [0, 255, 255] },
  { name: 'sill', color: [85, 255, 170] },
  { name: 'balcony', color: [170, 255, 85] },
  { name: 'blind', color: [255, 255, 0] },
  { name: 'deco', color: [255, 170, 0] },
  { name: 'molding', color: [255, 85, 0] },
  { name: 'pillar', color: [255, 0, 0] },
  { name: 'shop', color: [170, 0, 0] },
];

const CODE_LICENCE = 'weights published by the pix2pix authors with pytorch-CycleGAN-and-pix2pix (BSD licence)';

export interface PretrainedModel {
  name: string;
  /** What it translates, in words: "labels → photo". */
  task: string;
  /** The dataset it was trained on and the dataset direction the authors test it with. */
  dataset: string;
  direction?: 'AtoB' | 'BtoA';
  input: InputKind;
  palette?: readonly PaletteEntry[];
  licence: string;
}

export const PRETRAINED_MODELS: readonly PretrainedModel[] = [
  {
    name: 'facades_label2photo',
    task: 'facade labels → photo',
    dataset: 'facades',
    direction: 'BtoA',
    input: 'labels',
    palette: FACADES_PALETTE,
    licence: `${CODE_LICENCE}; trained on the CMP Facade Database (research use: cite Tyleček and Šára 2013)`,
  },
  {
    name: 'sat2map',
    task: 'aerial photo → map',
    dataset: 'maps',
    direction: 'AtoB',
    input: 'photo',
    licence: `${CODE_LICENCE}; trained on Google Maps imagery scraped by the authors (Google's terms apply)`,
  },
  {
    name: 'map2sat',
    task: 'map → aerial photo',
    dataset: 'maps',
    direction: 'BtoA',
    input: 'photo',
    licence: `${CODE_LICENCE}; trained on Google Maps imagery scraped by the authors (Google's terms apply)`,
  },
  {
    name: 'edges2shoes',
    task: 'edge drawing → shoe photo',
    dataset: 'edges2shoes',
    direction: 'AtoB',
    input: 'edges',
    licence: `${CODE_LICENCE}; trained on UT Zappos50K (research use: cite Yu and Grauman 2014)`,
  },
  {
    name: 'day2night',
    task: 'day photo → night photo',
    dataset: 'night2day',
    input: 'photo',
    licence: `${CODE_LICENCE}; trained on the Transient Attributes webcam set (research use: cite Laffont et al. 2014)`,
  },
];

export interface PairedDataset {
  name: string;
  /** What A and B hold. */
  sides: string;
  /** The size the authors' server lists, for the disk-space check before the size is known. */
  approxBytes: number;
}

export const DATASETS: readonly PairedDataset[] = [
  { name: 'facades', sides: 'A photo | B CMP facade labels', approxBytes: 30e6 },
  { name: 'maps', sides: 'A aerial photo | B map', approxBytes: 250e6 },
  { name: 'edges2shoes', sides: 'A edges | B shoe photo', approxBytes: 2.2e9 },
  { name: 'edges2handbags', sides: 'A edges | B handbag photo', approxBytes: 8.6e9 },
  { name: 'night2day', sides: 'A night | B day', approxBytes: 1.9e9 },
];

/** Why `data download cityscapes` does not download (the authors' script says the same). */
export const CITYSCAPES_NOTE =
  'the Cityscapes licence does not allow redistribution, so nobody may serve it but its owners: register at https://www.cityscapes-dataset.com, download gtFine_trainvaltest.zip and leftImg8bit_trainvaltest.zip, then run `pix2pix data cityscapes --cityscapes DIR --out datasets/cityscapes` (docs/cityscapes.md)';

/** `--mirror`, else PIX2PIX_MIRROR, else the authors' server; without a trailing slash. */
export function baseUrl(mirror: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  const base = mirror ?? (env.PIX2PIX_MIRROR || undefined) ?? DEFAULT_BASE_URL;
  return base.replace(/\/+$/, '');
}

export function modelUrl(base: string, name: string): string {
  return `${base}/pix2pix/models-pytorch/${encodeURIComponent(name)}.pth`;
}

export function datasetUrl(base: string, name: string): string {
  return `${base}/pix2pix/datasets/${encodeURIComponent(name)}.tar.gz`;
}

export function findModel(name: string): PretrainedModel | undefined {
  return PRETRAINED_MODELS.find((m) => m.name === name);
}

export function findDataset(name: string): PairedDataset | undefined {
  return DATASETS.find((d) => d.name === name);
}

/** `pull --list`: one row per model. */
export function modelTable(): string {
  const rows = PRETRAINED_MODELS.map((m) => [m.name, m.task, m.input, m.dataset]);
  const head = ['name', 'translates', 'input', 'trained on'];
  return formatColumns(head, rows);
}
