/** `pix2pix infer`. */
import { opt, pytorch } from './define.ts';
import { force, json, maxPixels, quiet } from './common.ts';

/** PyTorch test.py flags with no option of their own: mapped or explained (docs/coming-from-pytorch.md). */
const INFER_PYTORCH_FLAGS = {
  gpuIds: pytorch.string({
    help: '-1 → --provider cpu; GPU ids → --provider auto (one GPU; CUDA_VISIBLE_DEVICES picks it)',
    pytorch: { mapsTo: ['provider'], map: (v) => ({ provider: v.trim() === '-1' ? 'cpu' : 'auto' }) },
  }),
  numTest: pytorch.int({
    help: 'not needed: every image of --input is translated',
    pytorch: { note: () => 'ignored: every image of --input is translated (--shard i/n splits a folder)' },
  }),
  phase: pytorch.string({
    help: 'not needed: --input names the split folder itself (DATA/test)',
    pytorch: { note: (v) => `ignored: --input names the folder itself (DATA/${v})` },
  }),
  eval: pytorch.boolean({
    help: 'chosen when the model is made: pix2pix export --bn running, or pix2pix import --eval',
    refuse: (v) =>
      v === 'true' ? 'normalisation is fixed when the model is made here: pix2pix export --bn running (or pix2pix import --eval for a .pth)' : undefined,
    pytorch: {},
  }),
  preprocess: pytorch.string({
    help: 'none → --size native; resizing is --size N',
    refuse: (v) => (v === 'none' ? undefined : 'not implemented: --size N resizes to N×N (as test.py), --size native keeps each image at its own size'),
    pytorch: { mapsTo: ['size'], map: () => ({ size: 'native' }) },
  }),
} as const;

export const INFER_OPTIONS = {
  model: opt.string({ help: 'ONNX generator (from `pix2pix export`, or any pix2pix export: NCHW float in [-1,1])', required: true }),
  input: opt.string({ help: 'folder of images', required: true }),
  out: opt.string({ help: 'folder for the translated images (created)', required: true, aliases: ['output', 'results_dir'] }),
  batchSize: opt.int({ help: 'images per session run', default: 4, min: 1 }),
  provider: opt.choice(['auto', 'cuda', 'webgpu', 'cpu'], {
    help: 'execution provider; auto = CUDA when installed and an NVIDIA GPU is present, else WebGPU on a GPU adapter (never a software one), else CPU; the log says which',
    default: 'auto',
  }),
  threads: opt.int({ help: 'intra-op threads (default: all cores)', min: 1 }),
  size: opt.string({
    help: "'native' (default for models with free H and W): each image at its own size, reflect-padded to the model's multiple of 2^depth and cropped back; N: resize to N×N (default for fixed-size models)",
    check: (v) => (/^(native|[1-9]\d*)$/i.test(v.trim()) ? undefined : "must be 'native' or a side in pixels"),
  }),
  keepSize: opt.boolean({ help: "with --size N: resize each output back to its source's size", default: false }),
  tile: opt.int({
    help: 'translate images larger than N×N in overlapping N×N tiles, blended (N a multiple of 2^depth); images over --max-pixels are then read and written (PNG) band by band; deep nets see each tile alone: see docs/infer.md',
    min: 1,
  }),
  overlap: opt.int({ help: 'pixels shared by neighbouring tiles (default tile/4)', min: 0 }),
  html: opt.boolean({ help: 'write index.html (50 rows a page) with input | output (| target for AB pairs); implies --save-triplets', default: false }),
  saveTriplets: opt.boolean({ help: 'also write NAME_input.EXT (and NAME_target.EXT with --ab-side) beside each output', default: false }),
  format: opt.choice(['png', 'jpg', 'webp'], { help: 'output image format', default: 'png' }),
  recursive: opt.boolean({ help: 'include subfolders and mirror the tree in OUT', default: false }),
  skipExisting: opt.boolean({ help: 'leave outputs that already exist (resume an interrupted run)', default: false }),
  abSide: opt.choice(['A', 'B'], { help: 'inputs are aligned AB pairs: feed this half' }),
  shard: opt.string({
    help: 'i/n: process the i-th (0-based) of n disjoint slices of the sorted file list. Default: from SLURM_ARRAY_TASK_ID (and _MIN, _STEP, _COUNT), else JOB_COMPLETION_INDEX with --task-count; 0/1 processes everything',
  }),
  taskCount: opt.int({
    help: 'number of pods of a Kubernetes Indexed Job (its completions): with JOB_COMPLETION_INDEX, the n of --shard',
    min: 1,
    scope: 'cli',
  }),
  force,
  maxModelMemory: opt.string({
    help: 'refuse models whose tensors or constant-shaped nodes need more than this, e.g. 8GiB (default: 4 GiB or half the RAM)',
  }),
  maxPixels: {
    ...maxPixels,
    help: `${maxPixels.help}; with --tile, larger images are read and written band by band and it bounds one band of tile rows`,
  },
  quiet: { ...quiet, help: 'no progress bar or summary' },
  json: { ...json, help: 'print the summary as one JSON object on stdout' },
  ...INFER_PYTORCH_FLAGS,
} as const;
