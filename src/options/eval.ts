/** `pix2pix eval fcn-score | labels | color | rf`, and the scorer keys of experiment files they share. */
import { opt } from './define.ts';
import { json, maxPixels, quiet } from './common.ts';
import { NET_D_CHOICES, TRAIN_OPTIONS } from './train.ts';

const SCORE_COMMON = {
  labels: opt.string({ help: 'ground truth folder (searched recursively): Cityscapes gtFine/<split> or any folder of label maps', required: true }),
  labelEncoding: opt.choice(['labelIds', 'trainIds'], {
    help: 'labelIds: raw Cityscapes ids (*_gtFine_labelIds.png), mapped with labels.py; trainIds: already 0-18/255',
    default: 'labelIds',
  }),
  reference: opt.boolean({
    help: 'reproduce the reference fast_hist bit for bit, quirks included (frames with gt 18 & pred 19 dropped, pred 19 shifted)',
    default: false,
  }),
  csv: opt.string({ help: 'also write the per-class table to this CSV file' }),
  maxPixels,
  quiet: { ...quiet, help: 'no progress bar' },
  json: { ...json, help: 'print the scores and the per-class table as one JSON object on stdout' },
} as const;

export const FCN_SCORE_OPTIONS = {
  segmenter: opt.string({ help: 'segmenter .onnx; its settings come from SEG.onnx.json/.yaml beside it, or from --preset', required: true }),
  preset: opt.choice(['fcn8s-cityscapes'], {
    help: 'fcn8s-cityscapes = the reference contract: PIL-bilinear to 2048x1024, BGR, mean (72.78044, 83.21195, 73.45286), 20 outputs, class 19 ignored',
  }),
  generated: opt.string({
    help: 'generated photos (searched recursively), named <id>_leftImg8bit.png or like their label files',
    required: true,
    aliases: ['images'],
  }),
  ...SCORE_COMMON,
} as const;

export const LABELS_OPTIONS = {
  generated: opt.string({ help: 'generated colour label maps (searched recursively)', required: true, aliases: ['pred'] }),
  ...SCORE_COMMON,
  voidColors: opt.choice(['none', 'black', 'all'], {
    help: 'palette for nearest-colour matching (the authors did not publish theirs): none = the 19 class colours; black = also (0,0,0) → ignore; all = every labels.py colour, void ones → ignore. Ties go to the label defined first (pole, car)',
    default: 'none',
    yaml: true,
  }),
  resolution: opt.choice(['label', 'prediction'], {
    help: 'score at the label size (prediction upsampled, nearest) or at the prediction size (labels downsampled, nearest); unpublished in the paper',
    default: 'label',
  }),
} as const;

export const COLOR_OPTIONS = {
  generated: opt.string({ help: 'generated images (searched recursively)', required: true }),
  real: opt.string({ help: 'real images (searched recursively), e.g. the val photos resized to 256x256', required: true }),
  bins: opt.int({
    help: 'bins per channel over L [0,100], a [-128,127], b [-128,127]. The paper does not publish its bins or ranges; these defaults are our choice',
    default: 256,
    min: 1,
    yaml: true,
  }),
  csv: opt.string({ help: 'write the intersections and both normalised histograms per channel to this CSV file' }),
  maxPixels,
  quiet: SCORE_COMMON.quiet,
  json: { ...json, help: 'print the intersections and histograms as one JSON object on stdout' },
} as const;

export const RF_OPTIONS = {
  size: opt.int({ help: 'image side the logit maps and MACs are computed for', default: 256, min: 1 }),
  netD: opt.choice(NET_D_CHOICES, {
    help: 'one configuration only (basic = 70×70, pixel = 1×1, n_layers with --n-layers-d, multiscale with --num-d and --n-layers-d)',
    aliases: ['netD'],
  }),
  nLayersD: opt.intList({
    help: 'depths to list (default 0…6); with --net-d n_layers or multiscale, the first is the one',
    aliases: ['n_layers_D'],
    min: 0,
    max: 8,
  }),
  numD: TRAIN_OPTIONS.numD,
  rf: TRAIN_OPTIONS.rf,
  ndf: TRAIN_OPTIONS.ndf,
  norm: TRAIN_OPTIONS.norm,
  unconditional: opt.boolean({ help: 'D sees B only (3 channels) instead of (A, B)', default: false }),
  json: { ...json, help: 'print the table rows as one JSON object on stdout' },
} as const;
