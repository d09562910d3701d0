import { promises as fsp } from 'node:fs';
import { ONNX_FLOAT } from '../../src/onnx/proto.ts';
import { xyModel } from './onnx-model.ts';
import { PngRowWriter } from '../../src/image/png-stream.ts';

/**
 * A `width`×`height` RGB PNG written a band of rows at a time (src/image/png-stream.ts), so making
 * an image of hundreds of megapixels costs one band of memory. Textured (ramps plus 5 bits of hashed noise),
 * so it compresses about as badly as a photograph rather than to nothing. zlib level 1: the file is made to be read.
 */
export async function writeBigPng(file: string, width: number, height: number): Promise<void> {
  const fh = await fsp.open(file, 'w');
  try {
    const png = new PngRowWriter(width, height, async (b) => void (await fh.write(b)), 1);
    const band = Math.max(1, Math.min(height, Math.floor(2 ** 22 / width)));
    for (let y0 = 0; y0 < height; y0 += band) {
      const rows = Math.min(band, height - y0);
      const rgb = new Uint8Array(rows * width * 3);
      for (let r = 0; r < rows; r++) {
        const y = y0 + r;
        for (let x = 0; x < width; x++) {
          const o = (r * width + x) * 3;
          const n = Math.imul(x, 73856093) ^ Math.imul(y, 19349663);
          const noise = Math.imul(n, n ^ 0x5bd1e995) >>> 27;
          rgb[o] = (((x >> 3) & 127) + noise) & 255;
          rgb[o + 1] = (((y >> 2) & 127) + 2 * noise) & 255;
          rgb[o + 2] = (((x + y) >> 4) + noise) & 255;
        }
      }
      await png.writeRows(rgb);
    }
    await png.end();
  } finally {
    await fh.close();
  }
}

/** An Identity model of free height and width (NCHW float, 3 channels), sides multiples of `multiple`. */
export function identityModel(multiple = 8): Uint8Array {
  const shape = ['n', 3, 'h', 'w'];
  return xyModel(0, {
    nodes: [{ name: 'id', opType: 'Identity', input: ['x'], output: ['y'], attribute: [] }],
    inputs: [{ name: 'x', elemType: ONNX_FLOAT, shape }],
    outputs: [{ name: 'y', elemType: ONNX_FLOAT, shape }],
    metadata: { size_multiple: String(multiple) },
  });
}
