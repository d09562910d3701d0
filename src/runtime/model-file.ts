/**
 * Read an ONNX file's metadata_props and opset without loading its weights: top-level fields are
 * walked with protobufjs's reader on small chunks and the graph (field 7, the weights) is skipped
 * with a seek, so describing a 200 MB model costs a few reads.
 */
import { promises as fsp } from 'node:fs';
import protobuf from 'protobufjs';
import { type OnnxModelHeader, readOnnxModelHeader } from '../onnx/proto.ts';
import { UserError, errorMessage } from '../util/errors.ts';

const SMALL_FIELD_LIMIT = 16 * 2 ** 20;
const GRAPH_FIELD = 7;

export async function readOnnxFileHeader(file: string): Promise<OnnxModelHeader> {
  let fh;
  try {
    fh = await fsp.open(file, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(
      code === 'ENOENT'
        ? `model not found: ${file} (make one with \`pix2pix export --checkpoint runs/NAME\`)`
        : `cannot read model ${file}: ${errorMessage(e)}`,
    );
  }
  try {
    const { size } = await fh.stat();
    if (size === 0) throw new UserError(`model ${file} is empty (0 bytes)`);
    // Copy every top-level field except the graph into one buffer, then parse that with the schema.
    const kept: Uint8Array[] = [];
    let pos = 0;
    const head = Buffer.alloc(24);
    while (pos < size) {
      const { bytesRead } = await fh.read(head, 0, head.length, pos);
      const r = protobuf.Reader.create(head.subarray(0, bytesRead));
      let tag: number;
      let fieldLength: number;
      try {
        tag = r.uint32();
        const wire = tag & 7;
        if (wire === 2) {
          const len = r.uint32();
          fieldLength = r.pos + len;
        } else if (wire === 0) {
          r.uint64();
          fieldLength = r.pos;
        } else if (wire === 1) fieldLength = r.pos + 8;
        else if (wire === 5) fieldLength = r.pos + 4;
        else throw new Error(`wire type ${wire}`);
      } catch {
        throw new UserError(`${file} is not an ONNX model (unreadable protobuf at byte ${pos})`);
      }
      if (pos + fieldLength > size) throw new UserError(`${file} is truncated or not an ONNX model (a field runs past the end at byte ${pos})`);
      if (tag >>> 3 !== GRAPH_FIELD && fieldLength <= SMALL_FIELD_LIMIT) {
        const buf = Buffer.alloc(fieldLength);
        await fh.read(buf, 0, fieldLength, pos);
        kept.push(buf);
      }
      pos += fieldLength;
    }
    return readOnnxModelHeader(Buffer.concat(kept));
  } finally {
    await fh.close();
  }
}
