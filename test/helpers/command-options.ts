import type { OptionTable } from '../../src/options/define.ts';
import { COLLECT_OPTIONS, CITYSCAPES_OPTIONS, EVAL_RUN_OPTIONS, SYNTH_OPTIONS } from '../../src/options/data.ts';
import { COLOR_OPTIONS, FCN_SCORE_OPTIONS, LABELS_OPTIONS, RF_OPTIONS } from '../../src/options/eval.ts';
import { EXPORT_OPTIONS, IMPORT_OPTIONS } from '../../src/options/export.ts';
import { INFER_OPTIONS } from '../../src/options/infer.ts';
import { DATA_COMBINE_OPTIONS, DATA_DOWNLOAD_OPTIONS, PULL_OPTIONS } from '../../src/options/pull.ts';
import { IMPORT_CAFFE_OPTIONS, SEGMENTER_OPTIONS } from '../../src/options/segmenter.ts';
import { SERVE_OPTIONS } from '../../src/options/serve.ts';
import { TEST_PY_OPTIONS } from '../../src/options/test-py.ts';
import { TRAIN_OPTIONS } from '../../src/options/train.ts';

/** Each command's option table by its path (undefined: the command has positionals only). */
export const COMMAND_OPTIONS: Readonly<Record<string, OptionTable | undefined>> = {
  'data synth': SYNTH_OPTIONS,
  'data cityscapes': CITYSCAPES_OPTIONS,
  'data download': DATA_DOWNLOAD_OPTIONS,
  'data combine': DATA_COMBINE_OPTIONS,
  pull: PULL_OPTIONS,
  train: TRAIN_OPTIONS,
  export: EXPORT_OPTIONS,
  import: IMPORT_OPTIONS,
  infer: INFER_OPTIONS,
  test: TEST_PY_OPTIONS,
  serve: SERVE_OPTIONS,
  'segmenter train': SEGMENTER_OPTIONS,
  'segmenter import-caffe': IMPORT_CAFFE_OPTIONS,
  'eval fcn-score': FCN_SCORE_OPTIONS,
  'eval labels': LABELS_OPTIONS,
  'eval color': COLOR_OPTIONS,
  'eval rf': RF_OPTIONS,
  'eval run': EVAL_RUN_OPTIONS,
  'results collect': COLLECT_OPTIONS,
  'results table': undefined,
};
