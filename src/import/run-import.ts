/**
 * `pix2pix import`: a PyTorch pix2pix generator state_dict (`latest_net_G.pth`) → an ONNX file with
 * the same `input`/`output` contract and metadata as `pix2pix export`. Never loads tfjs or Python.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { UserError, errorMessage } from '../util/errors.ts';
import { writeFileAtomic } from '../util/fs.ts';
import type { Fp16Mode } from '../onnx/fp16.ts';
import { DEFAULT_OPSET, META, checkOpset, exportConvNetOnnx, generatorSpec, packageVersion } from '../export/export.ts';
import { FP16_TOLERANCE, maxOnnxDifference, randomInputs } from '../export/verify.ts';
import { formatBytes } from '../util/bytes.ts';
import { readTorchStateDict } from './pytorch.ts';
import { type ImportedUNet, importUNet } from './unet.ts';

export interface ImportPthOptions {
  pth: string;
  out: string;
  /** PyTorch `test.py --eval`: running statistics, no dropout. Default: batch (per-image) statistics. */
  eval?: boolean;
  /** Keep test-time Dropout(0.5) where the PyTorch repo puts it (test.py without --eval does). */
  dropout?: boolean;
  fp16?: Fp16Mode;
  opset?: number;
  /** Side the model was trained at, recorded as metadata image_size (the repo's --crop_size, default 256). */
  imageSize?: number;
  /** With fp16: compare the float16 file with its float32 twin on a random image (default true). */
  verify?: boolean;
  log?: (line: string) => void;
}

export interface ImportPthResult {
  out: string;
  bytes: number;
  net: ImportedUNet;
  /** --fp16 with verification: largest |float16 − float32| output difference. */
  fp16MaxAbsDifference?: number;
}

const CONTRADICTION = "--dropout and --eval contradict each other: PyTorch's --eval turns dropout off";

/** ONNX bytes for an already-read state_dict file. */
export function importPthBytes(
  file: Uint8Array,
  name: string,
  o: Omit<ImportPthOptions, 'pth' | 'out' | 'log' | 'verify'> & { metadata?: Record<string, string> } = {},
): { onnx: Uint8Array; net: ImportedUNet } {
  if (o.eval && o.dropout) throw new UserError(CONTRADICTION);
  const net = importUNet(readTorchStateDict(file));
  const o2 = net.arch.options;
  const multiple = 2 ** o2.depth;
  const size = o.imageSize ?? Math.max(256, multiple);
  if (!Number.isInteger(size) || size < multiple || size % multiple !== 0)
    throw new UserError(`--image-size must be a multiple of ${multiple} for this unet_${multiple} (got ${size})`);
  const meta: Record<string, string> = {
    [META.producer]: 'pix2pix-ts',
    [META.version]: packageVersion(),
    [META.net]: 'G',
    [META.netG]: `unet_${multiple}`,
    [META.norm]: o2.norm,
    [META.sizeMultiple]: String(multiple),
    [META.imageSize]: String(size),
    [META.inputRange]: '[-1,1]',
    [META.layout]: 'NCHW',
    [META.channelOrder]: 'RGB',
    source: `PyTorch state_dict ${name} (pytorch-CycleGAN-and-pix2pix UnetGenerator)`,
  };
  // Extra entries (`pix2pix pull`'s model card) describe the model; they never redefine the net's keys.
  for (const [k, v] of Object.entries(o.metadata ?? {})) meta[k] ??= v;
  const onnx = exportConvNetOnnx(generatorSpec(net.arch, net.params, meta), {
    opset: o.opset ?? DEFAULT_OPSET,
    norm: o.eval ? 'running' : 'instance',
    dropout: o.dropout ?? false,
    fp16: o.fp16,
  });
  return { onnx, net };
}

export async function importPth(o: ImportPthOptions): Promise<ImportPthResult> {
  const log = o.log ?? (() => {});
  if (o.eval && o.dropout) throw new UserError(CONTRADICTION);
  if (path.extname(o.out).toLowerCase() !== '.onnx') throw new UserError(`--out ${o.out} should end in .onnx`);
  checkOpset(o.opset ?? DEFAULT_OPSET);
  let file: Uint8Array;
  try {
    file = await fsp.readFile(o.pth);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(code === 'ENOENT' ? `--pth ${o.pth} does not exist` : `cannot read --pth ${o.pth}: ${errorMessage(e)}`);
  }
  if (file.length === 0) throw new UserError(`--pth ${o.pth} is empty (0 bytes)`);
  let result: { onnx: Uint8Array; net: ImportedUNet };
  try {
    result = importPthBytes(file, path.basename(o.pth), o);
  } catch (e) {
    // Say which file a format error came from: the messages name keys and opcodes, not the path.
    if (e instanceof UserError) throw new UserError(`${o.pth}: ${e.message}`);
    throw e;
  }
  const { onnx, net } = result;
  const a = net.arch.options;
  log(
    `read ${o.pth}: ${net.tensorCount} tensors (${net.dtypes.join(', ')}, ${(net.values / 1e6).toFixed(2)} M values): unet_${2 ** a.depth}, ngf ${a.ngf}, ${a.norm} norm, ${a.inChannels}→${a.outChannels} channels`,
  );
  await writeFileAtomic(o.out, onnx);
  const stats = o.eval ? 'running statistics (--eval)' : a.norm === 'batch' ? 'per-image batch statistics (test.py without --eval)' : 'instance statistics';
  log(
    `wrote ${o.out} (${formatBytes(onnx.length)}, ${stats}, dropout ${o.dropout ? 'on (PyTorch placement)' : 'off'}, weights ${o.fp16 ? 'float16' : 'float32'}${o.fp16 === 'compute' ? ', float16 compute' : ''})`,
  );
  const r: ImportPthResult = { out: o.out, bytes: onnx.length, net };
  if (o.fp16 && o.verify !== false) r.fp16MaxAbsDifference = await checkFp16(file, path.basename(o.pth), o, onnx, log);
  return r;
}

/**
 * The float16 file against a float32 import of the same weights (dropout off) on one random image of
 * the smallest side the net takes: at most 2 of 255 grey levels apart, else a UserError (file kept).
 */
async function checkFp16(file: Uint8Array, name: string, o: ImportPthOptions, half: Uint8Array, log: (line: string) => void): Promise<number> {
  const plain = { ...o, dropout: false };
  const f32 = importPthBytes(file, name, { ...plain, fp16: undefined });
  const checked = o.dropout ? importPthBytes(file, name, plain).onnx : half;
  const a = f32.net.arch.options;
  const d = await maxOnnxDifference(checked, f32.onnx, [randomInputs(1, a.inChannels, 2 ** a.depth, 1)]);
  log(
    `verify float16 vs float32 (onnxruntime-node CPU, one random ${2 ** a.depth}² image): max abs difference ${d.toExponential(2)} (${(d * 127.5).toFixed(2)} of 255 grey levels)`,
  );
  if (!(d <= FP16_TOLERANCE)) {
    throw new UserError(
      `the float16 file ${o.out} differs from float32 by ${(d * 127.5).toFixed(2)} grey levels (> 2): import without --fp16 (the file was kept for inspection)`,
    );
  }
  return d;
}
