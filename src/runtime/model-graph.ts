/**
 * What sides a model without our metadata (a PyTorch export) accepts, read from its graph: the
 * product of the strides of its strided Conv and pooling nodes. For an encoder–decoder generator
 * (a chain of stride-2 levels, with or without U-Net skips) that is 2^depth, the multiple its
 * input sides must be. Only node records are parsed: initializers (the weights) are skipped by
 * seeking past them, so this costs a few small reads even for a 200 MB model.
 */
import { ModelProtoType } from '../onnx/proto.ts';
import { ProtoFile } from '../util/proto-file.ts';

const MODEL_GRAPH_FIELD = 7;
const GRAPH_NODE_FIELD = 1;
const NodeProtoType = ModelProtoType.lookupType('onnx.NodeProto');

export interface StridedNode {
  opType: string;
  strides: number[];
}

/** The graph's nodes that have a `strides` attribute, in graph order. */
async function readStridedNodes(file: string): Promise<StridedNode[]> {
  const pf = ProtoFile.open(file, (what, pos) => new Error(`${file}: ${what} at byte ${pos}`));
  try {
    const out: StridedNode[] = [];
    for (const f of pf.fields(0, pf.size)) {
      if (f.field !== MODEL_GRAPH_FIELD || f.wire !== 2) continue;
      for (const n of pf.fields(f.start, f.end)) {
        if (n.field !== GRAPH_NODE_FIELD || n.wire !== 2) continue;
        const node = NodeProtoType.toObject(NodeProtoType.decode(pf.bytes(n.start, n.end)), { longs: Number }) as {
          opType?: string;
          attribute?: { name?: string; ints?: number[] }[];
        };
        const strides = node.attribute?.find((a) => a.name === 'strides')?.ints;
        if (strides?.length) out.push({ opType: node.opType ?? '', strides });
      }
    }
    return out;
  } finally {
    pf.close();
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
