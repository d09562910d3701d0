/**
 * Read an ONNX file's metadata_props and opset without loading its weights: top-level fields are
 * walked in place (util/proto-file.ts) and the graph (field 7, the weights) is skipped with a seek,
 * so describing a 200 MB model costs a few reads.
 */
import { type OnnxModelHeader, readOnnxModelHeader } from '../onnx/proto.ts';
import { UserError, errorMessage } from '../util/errors.ts';
import { ProtoFile } from '../util/proto-file.ts';

const SMALL_FIELD_LIMIT = 16 * 2 ** 20;
const GRAPH_FIELD = 7;

export async function readOnnxFileHeader(file: string): Promise<OnnxModelHeader> {
  let pf: ProtoFile;
  try {
    pf = ProtoFile.open(file, (what, pos) =>
      what === 'unreadable field'
        ? new UserError(`${file} is not an ONNX model (unreadable protobuf at byte ${pos})`)
        : new UserError(`${file} is truncated or not an ONNX model (${what} at byte ${pos})`),
    );
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(
      code === 'ENOENT'
        ? `model not found: ${file} (make one with \`pix2pix export --checkpoint runs/NAME\`)`
        : `cannot read model ${file}: ${errorMessage(e)}`,
    );
  }
  try {
    if (pf.size === 0) throw new UserError(`model ${file} is empty (0 bytes)`);
    // Copy every top-level field except the graph into one buffer (tags included), then parse that with the schema.
    const kept: Uint8Array[] = [];
    let pos = 0;
    for (const f of pf.fields(0, pf.size)) {
      if (f.field !== GRAPH_FIELD && f.end - pos <= SMALL_FIELD_LIMIT) kept.push(pf.bytes(pos, f.end));
      pos = f.end;
    }
    return readOnnxModelHeader(Buffer.concat(kept));
  } finally {
    pf.close();
  }
}
