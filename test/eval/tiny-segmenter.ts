/**
 * Test fixture: a real 1×1-convolution ONNX segmenter with 4 classes. Logit of class k < 3 is input
 * channel k; class 3's logit is 0. With RGB input and mean 128 a pixel therefore gets the class of
 * its dominant channel if that is above 128, else class 3.
 */
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { encodeOnnxModel, ONNX_FLOAT } from '../../src/onnx/proto.ts';

export function writeTinySegmenter(dir: string, name = 'seg.onnx'): string {
  const w = new Float32Array(4 * 3);
  w[0 * 3 + 0] = 1;
  w[1 * 3 + 1] = 1;
  w[2 * 3 + 2] = 1;
  const b = new Float32Array(4);
  const bytes = encodeOnnxModel({
    irVersion: 8,
    opsetVersion: 13,
    producerName: 'pix2pix-ts tests',
    producerVersion: '0',
    graphName: 'tiny_segmenter',
    nodes: [{ input: ['data', 'W', 'B'], output: ['score'], name: 'conv', opType: 'Conv', attribute: [] }],
    initializers: [
      { name: 'W', dims: [4, 3, 1, 1], dataType: ONNX_FLOAT, rawData: new Uint8Array(w.buffer) },
      { name: 'B', dims: [4], dataType: ONNX_FLOAT, rawData: new Uint8Array(b.buffer) },
    ],
    inputs: [{ name: 'data', elemType: ONNX_FLOAT, shape: [1, 3, 'height', 'width'] }],
    outputs: [{ name: 'score', elemType: ONNX_FLOAT, shape: [1, 4, 'height', 'width'] }],
    metadata: {},
  });
  const file = path.join(dir, name);
  writeFileSync(file, bytes);
  return file;
}

/**
 * One scored frame for `eval fcn-score`: a 2×1 generated photo (red, then green at 200) whose ground
 * truth is road on both pixels, and the tiny segmenter with its sidecar (red → road, green → sidewalk).
 * Scores: pixel accuracy 0.5, road accuracy and IoU 0.5.
 */
export async function writeFcnScoreCase(root: string, labelsSubdir = ''): Promise<{ images: string; labels: string; segmenter: string; id: string }> {
  const { writeImage, writeLabelImage } = await import('../../src/data/image.ts');
  const id = 'aachen_000000_000019';
  const images = path.join(root, 'gen');
  const labels = path.join(root, 'gt');
  await writeImage(path.join(images, `${id}_leftImg8bit.png`), { width: 2, height: 1, data: Uint8Array.from([255, 0, 0, 0, 200, 0]) });
  await writeLabelImage(path.join(labels, labelsSubdir, `${id}_gtFine_labelIds.png`), { width: 2, height: 1, data: Uint8Array.from([7, 7]) });
  const segmenter = writeTinySegmenter(root);
  writeFileSync(`${segmenter}.json`, JSON.stringify({ numClasses: 4, classToTrainId: [0, 1, 2, 255], mean: [128, 128, 128] }));
  return { images, labels, segmenter, id };
}
