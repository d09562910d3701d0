/**
 * `pix2pix test`: the PyTorch repo's test.py flags, read to print the `export` + `infer` commands that
 * do the same here. Only the flags that change those commands are declared; test.py's others are
 * accepted (the command is not strict) because they change nothing here.
 */
import { opt } from './define.ts';

export const TEST_PY_OPTIONS = {
  dataroot: opt.string({ help: 'the dataset root (test.py reads DATAROOT/PHASE)', required: true }),
  name: opt.string({ help: 'the run name: the run folder is CHECKPOINTS_DIR/NAME', default: 'experiment_name' }),
  checkpointsDir: opt.string({ help: 'the folder of run folders', default: './checkpoints' }),
  resultsDir: opt.string({ help: 'results go to RESULTS_DIR/NAME/PHASE_EPOCH/images', default: './results/' }),
  phase: opt.string({ help: 'the split to translate', default: 'test' }),
  epoch: opt.string({ help: 'which checkpoint: only latest (the run folder holds the last epoch)', default: 'latest' }),
  direction: opt.choice(['AtoB', 'BtoA'], { help: 'AtoB feeds the A half of each AB image, BtoA the B half', default: 'AtoB' }),
  datasetMode: opt.choice(['aligned', 'single'], { help: 'aligned: AB images (the default for --model pix2pix); single: plain images' }),
  model: opt.string({
    help: 'pix2pix (test: a generator alone, on single images)',
    default: 'pix2pix',
    refuse: (v) => (v === 'pix2pix' || v === 'test' ? undefined : 'not implemented: pix2pix-ts runs pix2pix generators only'),
  }),
  eval: opt.boolean({ help: 'running BatchNorm statistics: export --bn running', default: false }),
} as const;
