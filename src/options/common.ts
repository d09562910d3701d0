/** Options several commands share, declared once. */
import { opt } from './define.ts';

/** Training engines a command or an experiment file may name; a test checks them against the engine registry. */
export const ENGINE_CHOICES = ['auto', 'tfjs-node-gpu', 'webgpu', 'tfjs-node', 'ort-cpu', 'wasm', 'cpu'] as const;
export type EngineChoice = (typeof ENGINE_CHOICES)[number];

export const quiet = opt.boolean({ help: 'no progress bar or log lines', default: false, scope: 'cli' });
export const json = opt.boolean({ help: 'print one machine-readable JSON object on stdout instead of the text report', default: false, scope: 'cli' });
export const engine = opt.choice(ENGINE_CHOICES, {
  help: 'training backend; auto picks the fastest that loads: tfjs-node-gpu > webgpu (hardware adapter) > tfjs-node > ort-cpu (every core) > wasm > cpu',
  default: 'auto',
  yaml: true,
});
export const seed = opt.int({ help: 'random seed (initial weights, data order, jitter, dropout)', default: 1, min: 0 });

/** Write into an output folder that holds files the command did not write (or /, or the home folder). */
export const force = opt.boolean({
  help: 'write into an output folder that holds files this command did not write (or /, or your home folder)',
  default: false,
  scope: 'cli',
});

/** The decode budget (src/image/decode.ts): images with more pixels are refused before decoding. */
export const maxPixels = opt.int({
  help: "refuse images with more pixels than this, from their header, before decoding (default: the machine's memory / 256 bytes, e.g. 100663296 with 24 GiB)",
  min: 1,
});
