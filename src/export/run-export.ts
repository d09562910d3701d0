/**
 * `pix2pix export`: checkpoint → ONNX file, verified against the tfjs forward pass by default.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { UserError } from '../util/errors.ts';
import { exists, writeFileAtomic } from '../util/fs.ts';
import { resolveInside } from '../util/paths.ts';
import { discriminatorArch, type DiscriminatorArch, discriminatorInputChannels, type GeneratorArch, generatorArch } from '../nets/arch.ts';
import { type CheckpointModel, networkParams, readCheckpoint, resolveCheckpointPath } from '../train/checkpoint.ts';
import { firstNonFinite } from '../train/divergence.ts';
import type { OnnxNormMode, ParamSource } from '../onnx/graph.ts';
import type { Fp16Mode } from '../onnx/fp16.ts';
import { formatBytes } from '../util/bytes.ts';
import { DEFAULT_OPSET, checkOpset, exportConvNetOnnx, discriminatorSpec, generatorSpec, modelMetadata } from './export.ts';
import { FP16_TOLERANCE, maxOnnxDifference, randomInputs, type VerifyInput, type VerifyResult, verifyOnnxAgainstTfjs } from './verify.ts';

export interface ExportCheckpointOptions {
  checkpoint: string;
  /** Default: beside the checkpoint, `model.onnx` (G) or `model_D.onnx` (D). */
  out?: string;
  opset?: number;
  norm?: OnnxNormMode;
  dropout?: boolean;
  net?: 'G' | 'D';
  verify?: boolean;
  /** float16 weights ('weights') or a float16 graph ('compute'); checked against the float32 export. */
  fp16?: Fp16Mode;
  /** Random images used by the check (default 2). */
  verifyImages?: number;
  /** Side of the check's images (default: the training crop size, else max(256, 2^depth)). */
  verifySize?: number;
  log?: (line: string) => void;
}

export interface ExportCheckpointResult {
  out: string;
  bytes: number;
  verify?: VerifyResult;
  /** --fp16: largest |float16 − float32| output difference on the check inputs. */
  fp16MaxAbsDifference?: number;
  /** Why real images were not part of the check, when they were not. */
  realImagesNote?: string;
}

type LoadedNet =
  | { kind: 'G'; arch: GeneratorArch; params: ParamSource; model: CheckpointModel }
  | { kind: 'D'; arch: DiscriminatorArch; params: ParamSource; model: CheckpointModel };

async function loadNet(checkpoint: string, net: 'G' | 'D'): Promise<LoadedNet> {
  const ckpt = await readCheckpoint(checkpoint);
  const model = ckpt.header.model;
  if (net === 'G') {
    const arch = generatorArch(model.generator);
    return { kind: 'G', arch, params: finiteParams(checkpoint, 'G', networkParams(ckpt, 'G', arch)), model };
  }
  if (!model.discriminator) throw new UserError(`${checkpoint} has no discriminator (it was trained with --loss L1); export the generator instead (--net G)`);
  const arch = discriminatorArch(model.discriminator);
  return { kind: 'D', arch, params: finiteParams(checkpoint, 'D', networkParams(ckpt, 'D', arch)), model };
}

/** A model with a NaN or infinite weight only ever outputs NaN: refuse it, naming the cause. */
function finiteParams(checkpoint: string, net: 'G' | 'D', params: ParamSource): ParamSource {
  for (const [name, data] of params) {
    if (firstNonFinite(data) !== undefined) {
      throw new UserError(
        `${checkpoint}: the weight ${net}/${name} is NaN or infinite, so the model diverged while training (usually a learning rate too high); train again with a lower --lr (the paper's is 0.0002) and export that checkpoint`,
      );
    }
  }
  return params;
}

function inputChannels(n: LoadedNet): number {
  return n.kind === 'G' ? n.arch.options.inChannels : discriminatorInputChannels(n.arch);
}

/** Up to `count` real test-time inputs from the dataset the checkpoint was trained on, if it is still there. */
async function realInputs(n: LoadedNet, size: number, count: number): Promise<{ input?: VerifyInput; note?: string }> {
  if (n.kind !== 'G') return { note: 'real images are only used for generators' };
  const data = n.model.config?.data;
  if (typeof data !== 'string') return { note: 'the checkpoint records no data folder' };
  if (!(await exists(data))) return { note: `the recorded data folder ${data} does not exist here` };
  const { openPairedDataset } = await import('../data/dataset.ts');
  const direction = n.model.config?.direction === 'BtoA' ? 'BtoA' : 'AtoB';
  for (const split of ['val', 'test', 'train']) {
    let ds;
    try {
      ds = await openPairedDataset(data, split, { warn: () => {} });
    } catch {
      continue;
    }
    const k = Math.min(count, ds.size);
    const px = size * size;
    const out = new Float32Array(k * 3 * px);
    for (let i = 0; i < k; i++) {
      const pair = await ds.loadPair(i, { direction, loadSize: size, cropSize: size, jitter: false });
      // HWC → CHW
      for (let p = 0; p < px; p++) for (let c = 0; c < 3; c++) out[i * 3 * px + c * px + p] = pair.input[p * 3 + c];
    }
    return { input: { label: `${k} real image(s) from ${path.join(data, split)}`, data: out, dims: [k, 3, size, size] } };
  }
  return { note: `no readable val/test/train split in ${data}` };
}

export async function exportCheckpoint(o: ExportCheckpointOptions): Promise<ExportCheckpointResult> {
  const log = o.log ?? (() => {});
  const net = o.net ?? 'G';
  const opset = o.opset ?? DEFAULT_OPSET;
  checkOpset(opset);
  const norm = o.norm ?? 'instance';
  const ckptFile = await resolveCheckpointPath(o.checkpoint);
  const out = o.out ?? path.join(path.dirname(ckptFile), net === 'G' ? 'model.onnx' : 'model_D.onnx');
  if (!['.onnx'].includes(path.extname(out).toLowerCase())) throw new UserError(`--out ${out} should end in .onnx`);
  const n = await loadNet(ckptFile, net);
  const meta = modelMetadata(n.model, net);
  const spec = n.kind === 'G' ? generatorSpec(n.arch, n.params, meta) : discriminatorSpec(n.arch, n.params, meta);
  const bytes = exportConvNetOnnx(spec, { opset, norm, dropout: o.dropout ?? false, fp16: o.fp16 });
  await fsp.mkdir(path.dirname(path.resolve(out)), { recursive: true });
  // The file may not be a symlink that leads out of the folder it is named in.
  await writeFileAtomic(await resolveInside(path.dirname(path.resolve(out)), path.basename(out), '--out'), bytes);
  log(
    `wrote ${out} (${formatBytes(bytes.length)}, opset ${opset}, ${norm === 'instance' ? 'per-image (instance) statistics' : 'running statistics'}, dropout ${o.dropout ? 'on' : 'off'}${o.fp16 ? `, float16 weights, ${o.fp16 === 'compute' ? 'float16' : 'float32'} compute` : ''})`,
  );
  const result: ExportCheckpointResult = { out, bytes: bytes.length };
  if (o.verify === false) return result;

  // Test-time dropout makes the file's output random; check the same weights without it. A float16
  // file is checked in two steps: its float32 twin against tfjs, then float16 against float32.
  const checked = o.dropout || o.fp16 ? exportConvNetOnnx(spec, { opset, norm, dropout: false }) : bytes;
  const configSize = Number(n.model.config?.size);
  const multiple = n.kind === 'G' ? 2 ** n.arch.options.depth : 1;
  const size = o.verifySize ?? (Number.isInteger(configSize) && configSize > 0 ? configSize : Math.max(256, multiple));
  const inputs: VerifyInput[] = [randomInputs(o.verifyImages ?? 2, inputChannels(n), size, 1)];
  const real = await realInputs(n, size, 2);
  if (real.input) inputs.push(real.input);
  result.realImagesNote = real.note;
  const { selectEngine } = await import('../train/engines/registry.ts');
  await selectEngine('auto');
  const v = await verifyOnnxAgainstTfjs(checked, n, inputs, norm);
  result.verify = v;
  for (const c of v.cases)
    log(`verify (onnxruntime-node vs tfjs ${v.backend}${o.dropout ? ', dropout off' : ''}) on ${c.label}: max abs error ${c.maxAbsError.toExponential(2)}`);
  if (real.note) log(`verify: no real images (${real.note})`);
  if (!v.ok) {
    throw new UserError(
      `exported ${out} does not match the tfjs forward pass: max abs error ${v.maxAbsError.toExponential(2)} > ${v.tolerance} — please report this with the checkpoint's architecture (the file was kept for inspection)`,
    );
  }
  if (o.fp16) {
    const half = o.dropout ? exportConvNetOnnx(spec, { opset, norm, dropout: false, fp16: o.fp16 }) : bytes;
    const d = await maxOnnxDifference(half, checked, inputs);
    result.fp16MaxAbsDifference = d;
    log(`verify float16 vs float32 (onnxruntime-node CPU): max abs difference ${d.toExponential(2)} (${(d * 127.5).toFixed(2)} of 255 grey levels)`);
    if (n.kind === 'G' && !(d <= FP16_TOLERANCE)) {
      throw new UserError(
        `the float16 export ${out} differs from float32 by ${(d * 127.5).toFixed(2)} grey levels (> 2): export without --fp16 (the file was kept for inspection)`,
      );
    }
  }
  return result;
}
