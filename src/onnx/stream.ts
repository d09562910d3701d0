/**
 * Writes an ONNX model whose weights are too large to hold in memory twice: the graph (nodes,
 * inputs, outputs, metadata) is encoded with the schema of proto.ts, and each initializer's
 * raw_data is streamed into the file from where it lies (a byte range of another file, or a small
 * in-memory array). Protobuf needs every message's length before its bytes, and those lengths are
 * all known up front (header sizes + data sizes), so the file is written in one pass.
 *
 * The result is an ordinary single-file ONNX model (no external data), written atomically.
 */
import { openSync, readSync, closeSync } from 'node:fs';
import { writeFileAtomicWith } from '../util/fs.ts';
import { ModelProtoType, type OnnxModel } from './proto.ts';

const TensorProtoType = ModelProtoType.root.lookupType('onnx.TensorProto');
const GraphProtoType = ModelProtoType.root.lookupType('onnx.GraphProto');

export type TensorSource = { kind: 'bytes'; data: Uint8Array } | { kind: 'file'; file: string; offset: number; bytes: number };

export interface StreamedTensor {
  name: string;
  dims: number[];
  dataType: number;
  source: TensorSource;
}

const WIRE_LEN = 2;
const CHUNK = 8 << 20;

function varint(n: number): Uint8Array {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 128) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return Uint8Array.from(out);
}

const tag = (field: number): Uint8Array => varint((field << 3) | WIRE_LEN);

function sourceBytes(s: TensorSource): number {
  return s.kind === 'bytes' ? s.data.length : s.bytes;
}

/** The encoded TensorProto of `t` without its data, and the prefix of its raw_data field. */
function tensorHead(t: StreamedTensor): Uint8Array {
  const head = TensorProtoType.encode(TensorProtoType.fromObject({ name: t.name, dims: t.dims, dataType: t.dataType })).finish();
  const n = sourceBytes(t.source);
  const prefix = concat([tag(9), varint(n)]);
  return concat([head, prefix]);
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function valueInfo(v: OnnxModel['inputs'][number]): object {
  return {
    name: v.name,
    type: { tensorType: { elemType: v.elemType, shape: { dim: v.shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
  };
}

/**
 * Write `model` (its `initializers` must be empty) plus `tensors` as initializers to `target`.
 * `onProgress` gets the weight bytes written so far and the total.
 */
export async function writeOnnxStreaming(
  target: string,
  model: OnnxModel,
  tensors: readonly StreamedTensor[],
  onProgress?: (done: number, total: number) => void,
): Promise<number> {
  if (model.initializers.length) throw new Error('writeOnnxStreaming: pass initializers as streamed tensors');
  const modelHead = ModelProtoType.encode(
    ModelProtoType.fromObject({
      irVersion: model.irVersion,
      opsetImport: [{ domain: '', version: model.opsetVersion }],
      producerName: model.producerName,
      producerVersion: model.producerVersion,
      docString: model.docString ?? '',
      metadataProps: Object.entries(model.metadata).map(([key, value]) => ({ key, value })),
    }),
  ).finish();
  const graphHead = GraphProtoType.encode(
    GraphProtoType.fromObject({ name: model.graphName, node: model.nodes, input: model.inputs.map(valueInfo), output: model.outputs.map(valueInfo) }),
  ).finish();
  const heads = tensors.map(tensorHead);
  const tensorLens = tensors.map((t, i) => heads[i].length + sourceBytes(t.source));
  const graphLen = graphHead.length + tensorLens.reduce((s, n) => s + tag(5).length + varint(n).length + n, 0);
  const total = tensors.reduce((s, t) => s + sourceBytes(t.source), 0);
  let written = 0;
  let fileBytes = 0;
  await writeFileAtomicWith(target, async (fh) => {
    const put = async (b: Uint8Array): Promise<void> => {
      await fh.write(b);
      fileBytes += b.length;
    };
    await put(concat([modelHead, tag(7), varint(graphLen), graphHead]));
    for (let i = 0; i < tensors.length; i++) {
      const t = tensors[i];
      await put(concat([tag(5), varint(tensorLens[i]), heads[i]]));
      if (t.source.kind === 'bytes') {
        await put(t.source.data);
        written += t.source.data.length;
        onProgress?.(written, total);
        continue;
      }
      const fd = openSync(t.source.file, 'r');
      try {
        const buf = Buffer.alloc(Math.min(CHUNK, Math.max(1, t.source.bytes)));
        for (let done = 0; done < t.source.bytes;) {
          const n = readSync(fd, buf, 0, Math.min(buf.length, t.source.bytes - done), t.source.offset + done);
          if (n <= 0) throw new Error(`${t.source.file}: ended early while copying ${t.name}`);
          await put(buf.subarray(0, n));
          done += n;
          written += n;
          onProgress?.(written, total);
        }
      } finally {
        closeSync(fd);
      }
    }
  });
  return fileBytes;
}
