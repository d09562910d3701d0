/** `pix2pix segmenter train` and the experiment files' `scorer.segmenterTrain:` keys. */
import { type DefaultsOf, defaultsOf, opt, positive, type ValuesOf, type YamlOf } from './define.ts';
import { engine, quiet, seed } from './common.ts';

/** How the segmenter's cross-entropy weighs classes (src/train/class-weights.ts computes the weights). */
export const CLASS_WEIGHTINGS = ['median-frequency', 'none'] as const;
export type ClassWeighting = (typeof CLASS_WEIGHTINGS)[number];

export const SEGMENTER_OPTIONS = {
  data: opt.string({
    help: 'Cityscapes-layout root: leftImg8bit/<split>/*_leftImg8bit.png and gtFine/<split>/*_gtFine_labelIds.png',
    required: true,
    aliases: ['dataroot'],
  }),
  out: opt.string({ help: 'the ONNX file to write (its sidecar OUT.json beside it)', required: true, scope: 'cli' }),
  run: opt.string({ help: 'folder for the training checkpoint (default: OUT without .onnx, plus .run)', scope: 'cli' }),
  size: opt.int({ help: 'square side photos are resized to', default: 64, min: 8, yaml: true }),
  ngf: opt.int({ help: 'filters in the first layer', default: 16, min: 1, yaml: true }),
  depth: opt.int({ help: 'U-Net levels (size must be a multiple of 2^depth)', default: 4, min: 1, max: 10, yaml: true }),
  epochs: opt.int({ help: 'total epochs (cosine learning-rate schedule)', default: 30, min: 1, yaml: true }),
  batchSize: opt.int({ help: 'images per step', default: 4, min: 1, yaml: true }),
  lr: opt.number({ help: 'initial Adam learning rate', default: 2e-3, check: positive, yaml: true }),
  classWeights: opt.choice(CLASS_WEIGHTINGS, {
    help: "cross-entropy weight per class: median-frequency (median(f)/f per class, so thin classes count as much as large ones, as the FCN-score's class means do) or none (every pixel alike)",
    default: 'median-frequency',
    yaml: true,
  }),
  seed: { ...seed, yaml: true },
  engine,
  threads: opt.int({ help: 'threads of the ort-cpu engine (default: every core)', min: 1, yaml: true, scope: 'input' }),
  quiet,
} as const;

export type SegmenterTable = typeof SEGMENTER_OPTIONS;
/** Segmenter training settings (data is the Cityscapes root, out the run folder). */
// `threads` has no default (every core, decided by the engine), so it is optional in the config.
export type SegmenterConfig = ValuesOf<SegmenterTable, 'config'> & { out: string; threads?: number };
export type SegmenterTrainSettings = YamlOf<SegmenterTable>;
export const SEGMENTER_DEFAULTS: DefaultsOf<SegmenterTable, 'config'> = defaultsOf(SEGMENTER_OPTIONS, ['config']);

export const IMPORT_CAFFE_OPTIONS = {
  prototxt: opt.string({ help: 'the deploy net (text)', required: true }),
  caffemodel: opt.string({ help: 'the trained weights (binary)', required: true }),
  out: opt.string({ help: 'the ONNX file to write', required: true }),
  preset: opt.string({ help: "segmenter preset the sidecar names (input contract and classes); 'none' writes no sidecar", default: 'fcn8s-cityscapes' }),
  inputSize: opt.string({
    help: "override the preset's input size in the sidecar: WIDTHxHEIGHT, or 'label' to feed each label's size",
    check: (v) => (v === 'label' || /^[1-9]\d*x[1-9]\d*$/.test(v) ? undefined : "must be WIDTHxHEIGHT (e.g. 2048x1024) or 'label'"),
  }),
  quiet: { ...quiet, help: 'no progress bar' },
} as const;
