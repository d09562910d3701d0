import type { Argv } from 'yargs';

/**
 * The examples of every command's `--help`, keyed by command path ('' = `pix2pix --help`), each an
 * argument line (after `pix2pix`) and what it does. Declared as data so that a test parses every one
 * with the real CLI (test/cli/help-examples.test.ts). The top-level ones are the README's quick start.
 */
export const EXAMPLES: Readonly<Record<string, readonly (readonly [args: string, what: string])[]>> = {
  '': [
    ['data synth --out data/synth --count 200 --size 64', 'a synthetic paired dataset (photo | labels)'],
    ['train --data data/synth --out runs/labels2photo --direction BtoA --size 64 --epochs 20', 'labels→photo: 10 epochs, then 10 decaying'],
    ['export --checkpoint runs/labels2photo', 'runs/labels2photo/model.onnx, verified'],
    ['infer --model runs/labels2photo/model.onnx --input data/synth/test --ab-side B --out out/', 'translate the label halves of the test split'],
    ['eval run experiments/patch-size.yaml --profile quick', "the paper's Table 3 on the synthetic set"],
  ],
  'data synth': [['data synth --out data/synth --count 200 --size 64', 'labels→photo is --direction BtoA, photo→labels AtoB']],
  'data download': [
    ['data download facades', 'datasets/facades/{train,val,test}: A photo | B labels, train with --direction BtoA'],
    ['data download --list', 'the datasets'],
  ],
  'data combine': [['data combine --a photos --b labels --out datasets/mine', 'then pix2pix train --data datasets/mine']],
  pull: [
    ['pull facades_label2photo', 'writes models/facades_label2photo.onnx'],
    ['pull --list', 'the published models'],
    ['pull edges2shoes --mirror http://127.0.0.1:8000', 'from a mirror with the same layout (or PIX2PIX_MIRROR=URL)'],
  ],
  'data cityscapes': [['data cityscapes --cityscapes ~/data/cityscapes --out datasets/cityscapes', 'then train with --direction BtoA (labels→photo)']],
  train: [
    ['train --data data/synth --out runs/demo --size 64 --epochs 10', '10 epochs in all: 5 at the initial learning rate, then 5 decaying to 0'],
    [
      'train --dataroot ./datasets/facades --name facades_pix2pix --model pix2pix --direction BtoA',
      "the PyTorch repo's command: run folder ./checkpoints/facades_pix2pix",
    ],
    ['train --data data/synth --out runs/demo --resume', 'continue from the last epoch checkpoint'],
  ],
  export: [
    ['export --checkpoint runs/labels2photo', 'runs/labels2photo/model.onnx, checked against the training forward pass'],
    ['export --checkpoint runs/labels2photo --fp16 --out model-fp16.onnx', 'float16 weights: half the file'],
  ],
  import: [
    ['import --pth latest_net_G.pth --out facades.onnx', 'as test.py: per-image statistics'],
    ['import --pth latest_net_G.pth --out facades.onnx --eval', 'as test.py --eval: running statistics'],
  ],
  infer: [
    ['infer --model model.onnx --input photos/ --out out/', 'any size, any aspect ratio'],
    ['infer --model model.onnx --input scans/ --out out/ --tile 512 --overlap 128', 'overlapping tiles, blended'],
    ['infer --model model.onnx --input aerial/ --out out/ --tile 256', 'images over --max-pixels are read and written band by band (PNG)'],
    ['infer --model model.onnx --input data/synth/test --ab-side B --out out/ --html', 'out/index.html: input | output | target'],
  ],
  test: [['test --dataroot ./datasets/facades --name facades_pix2pix --model pix2pix --direction BtoA', 'prints the export and infer commands']],
  serve: [
    ['serve --model runs/facades/model.onnx', 'then open the printed URL'],
    ['serve --model models/edges2shoes.onnx --port 0', 'a pulled model on a free port: draw shoe edges'],
  ],
  'segmenter train': [['segmenter train --data data/synth --out models/seg.onnx', 'models/seg.onnx and its sidecar models/seg.onnx.json']],
  'segmenter import-caffe': [
    [
      'segmenter import-caffe --prototxt deploy.prototxt --caffemodel fcn-8s-cityscapes.caffemodel --out models/fcn8s-cityscapes.onnx',
      "the paper's FCN-8s, no Caffe needed",
    ],
  ],
  'eval fcn-score': [['eval fcn-score --segmenter fcn8s.onnx --preset fcn8s-cityscapes --generated results/ --labels cityscapes/gtFine/val', '']],
  'eval labels': [['eval labels --generated out/ --labels data/synth/gtFine/test', 'photo→labels output scored by nearest Cityscapes colour']],
  'eval color': [['eval color --generated out/ --real data/synth/leftImg8bit/test', 'L, a, b histogram intersections']],
  'eval rf': [
    ['eval rf', 'the whole PatchGAN family at 256²'],
    ['eval rf --rf 70 --json', 'the 70×70 PatchGAN alone, as JSON'],
    ['eval rf --net-d multiscale --num-d 3', "pix2pixHD's multi-scale PatchGAN at 3 scales: a receptive field and logit map per scale"],
  ],
  'eval run': [
    [
      'eval run experiments/losses.yaml --profile full --out /shared/results --resume',
      'one task of a SLURM array: its share comes from SLURM_ARRAY_TASK_ID (see docs/cluster.md)',
    ],
    ['eval run experiments/losses.yaml --profile full --out /shared/results --status', 'done / running / failed / missing, per stage'],
  ],
  'results collect': [['results collect experiments/losses.yaml --out /shared/results', 'merge the finished pairs of an array job']],
  'results table': [['results table results/losses.csv results/patch-size.csv', 'regenerate the markdown tables']],
};

/**
 * Add the examples of `command` (a key of EXAMPLES) to its yargs builder, each as a shell comment
 * line and the command line below it: two yargs columns would wrap long command lines mid-word.
 */
export function withExamples<T>(y: Argv<T>, command: string): Argv<T> {
  const list = EXAMPLES[command];
  if (!list) throw new Error(`no examples for '${command}' in src/cli/examples.ts`);
  let b = y;
  for (const [args, what] of list) b = b.example(`${what ? `# ${what}\n` : ''}$0 ${args}`, '');
  return b;
}
