/**
 * What sides a model without our metadata (a PyTorch export) accepts, read from its graph: the
 * product of the strides of its strided Conv and pooling nodes. For an encoder–decoder generator
 * (a chain of stride-2 levels, with or without U-Net skips) that is 2^depth, the multiple its
 * input sides must be. Only node records are parsed: initializers (the weights) are skipped by
 * seeking past them, so this costs a few small reads even for a 200 MB model.
 */
import { promises as fsp } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import protobuf from 'protobufjs';
import { ModelProtoType } from '../onnx/proto.ts';

const MODEL_GRAPH_FIELD = 7;
const GRAPH_NODE_FIELD = 1;
const NodeProtoType = ModelProtoType.lookupType('onnx.NodeProto');

interface FieldSpan {
  field: number;
  /** Where the value starts and ends in the file (length-delimited fields only; others are skipped). */
  start: number;
  end: number;
}

/** Length-delimited fields of the message occupying [from, to) in the file. */
async function* lengthDelimitedFields(fh: FileHandle, from: number, to: number): AsyncGenerator<FieldSpan> {
  const head = Buffer.alloc(24);
  let pos = from;
  while (pos < to) {
    const { bytesRead } = await fh.read(head, 0, head.length, pos);
    const r = protobuf.Reader.create(head.subarray(0, bytesRead));
    const tag = r.uint32();
    const wire = tag & 7;
    let end: number;
    if (wire === 2) {
      const len = r.uint32();
      end = pos + r.pos + len;
      yield { field: tag >>> 3, start: pos + r.pos, end };
    } else if (wire === 0) {
      r.uint64();
      end = pos + r.pos;
    } else if (wire === 1) end = pos + r.pos + 8;
    else if (wire === 5) end = pos + r.pos + 4;
    else throw new Error(`unexpected protobuf wire type ${wire} at byte ${pos}`);
    if (end > to) throw new Error(`protobuf field runs past its message at byte ${pos}`);
    pos = end;
  }
}

export interface StridedNode {
  opType: string;
  strides: number[];
}

/** The graph's nodes that have a `strides` attribute, in graph order. */
export async function readStridedNodes(file: string): Promise<StridedNode[]> {
  const fh = await fsp.open(file, 'r');
  try {
    const { size } = await fh.stat();
    const out: StridedNode[] = [];
    for await (const f of lengthDelimitedFields(fh, 0, size)) {
      if (f.field !== MODEL_GRAPH_FIELD) continue;
      for await (const n of lengthDelimitedFields(fh, f.start, f.end)) {
        if (n.field !== GRAPH_NODE_FIELD) continue;
        const buf = Buffer.alloc(n.end - n.start);
        await fh.read(buf, 0, buf.length, n.start);
        const node = NodeProtoType.toObject(NodeProtoType.decode(buf), { longs: Number }) as {
          opType?: string;
          attribute?: { name?: string; ints?: number[] }[];
        };
        const strides = node.attribute?.find((a) => a.name === 'strides')?.ints;
        if (strides?.length) out.push({ opType: node.opType ?? '', strides });
      }
    }
    return out;
  } finally {
    await fh.close();
  }
}

/** Downsampling ops whose strides multiply into the size multiple (ConvTranspose upsamples). */
const DOWNSAMPLING = new Set(['Conv', 'MaxPool', 'AveragePool', 'LpPool']);

/** Product of the largest stride of each downsampling node (1 when there is none). */
export function sizeMultipleOfNodes(nodes: readonly StridedNode[]): number {
  let m = 1;
  for (const n of nodes) if (DOWNSAMPLING.has(n.opType)) m *= Math.max(1, ...n.strides);
  return m;
}

/** The size multiple from the graph, or undefined when the file cannot be walked. */
export async function sizeMultipleFromGraph(file: string): Promise<number | undefined> {
  try {
    return sizeMultipleOfNodes(await readStridedNodes(file));
  } catch {
    return undefined;
  }
}
