/**
 * `pix2pix segmenter import-caffe`: deploy.prototxt + .caffemodel → segmenter ONNX + sidecar, with
 * no Caffe and no Python. Memory stays small whatever the caffemodel's size: the caffemodel is
 * scanned for where each weight lies and the weights are streamed straight into the ONNX file.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { SEGMENTER_PRESETS } from '../../eval/segmenter.ts';
import { UserError } from '../../util/errors.ts';
import { writeFileAtomic } from '../../util/fs.ts';
import { writeOnnxStreaming } from '../../onnx/stream.ts';
import { scanCaffeModel } from './caffemodel.ts';
import { convertCaffeNet } from './convert.ts';
import { parseCaffeNet } from './net.ts';

export interface ImportCaffeOptions {
  prototxt: string;
  caffemodel: string;
  out: string;
  /** Segmenter preset the sidecar names (e.g. fcn8s-cityscapes); 'none' writes no sidecar. */
  preset: string;
  /** Sidecar input size override: [w, h], or null = resize to each label's size. */
  inputSize?: [number, number] | null;
  producerVersion?: string;
  onProgress?: (done: number, total: number) => void;
}

export interface ImportCaffeResult {
  onnx: string;
  sidecar: string | null;
  inputName: string;
  outputName: string;
  outputChannels: number | undefined;
  layers: number;
  weightBytes: number;
  fileBytes: number;
  formats: { prototxt: string; caffemodel: string };
}

export async function importCaffe(o: ImportCaffeOptions): Promise<ImportCaffeResult> {
  if (!o.out.endsWith('.onnx')) throw new UserError(`--out ${o.out}: name the ONNX file to write (ending in .onnx)`);
  const preset = o.preset === 'none' ? undefined : SEGMENTER_PRESETS[o.preset];
  if (o.preset !== 'none' && !preset)
    throw new UserError(`--preset ${o.preset}: unknown; known presets: ${Object.keys(SEGMENTER_PRESETS).join(', ')}, or none`);
  let text: string;
  try {
    text = await fsp.readFile(o.prototxt, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(`--prototxt ${o.prototxt}: ${code === 'ENOENT' ? 'file not found' : `cannot read (${code})`}`);
  }
  const net = parseCaffeNet(text, o.prototxt);
  const weights = scanCaffeModel(o.caffemodel);
  const converted = convertCaffeNet(net, weights, o.prototxt, o.producerVersion ?? '0');
  converted.model.metadata.prototxt = path.basename(o.prototxt);
  converted.model.metadata.caffemodel = path.basename(o.caffemodel);
  if (preset && converted.outputChannels !== undefined && converted.outputChannels !== preset.numClasses) {
    throw new UserError(
      `${o.prototxt}: the net outputs ${converted.outputChannels} channels but preset ${o.preset} expects ${preset.numClasses} classes; pass --preset none and write the sidecar yourself`,
    );
  }
  const fileBytes = await writeOnnxStreaming(o.out, converted.model, converted.tensors, o.onProgress);
  let sidecar: string | null = null;
  if (preset) {
    sidecar = `${o.out}.json`;
    const body: Record<string, unknown> = {
      preset: o.preset,
      inputName: converted.inputName,
      outputName: converted.outputName,
      ...(o.inputSize !== undefined ? { inputSize: o.inputSize } : {}),
      info: { convertedBy: 'pix2pix-ts segmenter import-caffe', prototxt: path.basename(o.prototxt), caffemodel: path.basename(o.caffemodel) },
    };
    await writeFileAtomic(sidecar, `${JSON.stringify(body, null, 2)}\n`);
  }
  return {
    onnx: o.out,
    sidecar,
    inputName: converted.inputName,
    outputName: converted.outputName,
    outputChannels: converted.outputChannels,
    layers: converted.layersConverted,
    weightBytes: converted.weightBytes,
    fileBytes,
    formats: { prototxt: net.format, caffemodel: weights.format },
  };
}
