import type { CommandModule } from 'yargs';

/**
 * Every top-level command, in the order `--help` lists them: its yargs command string, its one-line
 * description and how to load it. main.ts loads only the module of the command being run, so
 * `--help` and `infer` never load tfjs (test/cli/lazy-imports.test.ts walks the imports to check).
 * Command modules take `command` and `describe` from here (declared once).
 */
export interface CommandEntry {
  command: string;
  describe: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  load(): Promise<CommandModule<any, any>>;
}

export const COMMANDS: readonly CommandEntry[] = [
  {
    command: 'data <command>',
    describe: "Dataset utilities (synthetic dataset generator, Cityscapes preparation, the paper's datasets, combining A and B folders)",
    load: async () => (await import('./data.ts')).dataCommand,
  },
  {
    command: 'train',
    describe: 'Train a pix2pix model (G + PatchGAN D) on a paired dataset',
    load: async () => (await import('./train.ts')).trainCommand,
  },
  {
    command: 'export',
    describe: 'Export a trained generator (or discriminator) to ONNX, checked against the training forward pass',
    load: async () => (await import('./export.ts')).exportCommand,
  },
  {
    command: 'import',
    describe: 'Convert a PyTorch pix2pix generator (latest_net_G.pth) to ONNX, without Python',
    load: async () => (await import('./import.ts')).importCommand,
  },
  {
    command: 'pull [name]',
    describe: "Download one of the pix2pix authors' published generators (facades_label2photo, edges2shoes, ...) as ONNX",
    load: async () => (await import('./pull.ts')).pullCommand,
  },
  {
    command: 'infer',
    describe: 'Translate a folder of images with an ONNX generator (ours or a PyTorch export)',
    load: async () => (await import('./infer.ts')).inferCommand,
  },
  {
    command: 'test',
    describe: "The PyTorch repo's test.py: prints the export + infer commands that do the same here",
    load: async () => (await import('./test-py.ts')).testPyCommand,
  },
  {
    command: 'serve',
    describe: 'Serve the browser playground (onnxruntime-web: WebGPU, else wasm) for an exported generator',
    load: async () => (await import('./serve.ts')).serveCommand,
  },
  {
    command: 'segmenter <command>',
    describe: "The segmenter behind FCN-score: import the paper's Caffe FCN-8s, or train your own",
    load: async () => (await import('./segmenter.ts')).segmenterCommand,
  },
  {
    command: 'eval <command>',
    describe: 'Evaluate results: FCN-score, photo→labels scores, colour statistics, discriminator receptive fields, paper tables',
    load: async () => (await import('./eval-group.ts')).evalGroupCommand,
  },
  {
    command: 'results <command>',
    describe: 'Merge experiment results and regenerate their tables',
    load: async () => (await import('./experiments.ts')).resultsCommand,
  },
];

/** The first word of a yargs command string: `eval <command>` → `eval`. */
export function commandName(command: string): string {
  return command.split(' ')[0];
}

/** `command` and `describe` of a top-level command, for its module. */
export function entry(name: string): { command: string; describe: string } {
  const e = COMMANDS.find((c) => commandName(c.command) === name);
  if (!e) throw new Error(`no command '${name}' in src/cli/commands/index.ts`);
  return { command: e.command, describe: e.describe };
}
