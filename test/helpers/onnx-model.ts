import { encodeOnnxModel, ONNX_FLOAT, type OnnxModel } from '../../src/onnx/proto.ts';

/**
 * A hand-built ONNX model from float input `x` [1, 3, size, size] to float output `y` of the same
 * shape (IR 8, opset 17, no metadata): what the runtime tests feed to onnxruntime. `graph` overrides
 * any other field (a producer, a graph name).
 */
export function xyModel(size: number, graph: Pick<OnnxModel, 'nodes'> & Partial<OnnxModel>): Uint8Array {
  return encodeOnnxModel({
    irVersion: 8,
    opsetVersion: 17,
    producerName: 'test',
    producerVersion: '0',
    graphName: 'g',
    initializers: [],
    inputs: [{ name: 'x', elemType: ONNX_FLOAT, shape: [1, 3, size, size] }],
    outputs: [{ name: 'y', elemType: ONNX_FLOAT, shape: [1, 3, size, size] }],
    metadata: {},
    ...graph,
  });
}

/** Little-endian int64 raw data for an initializer. */
export function int64s(values: number[]): Uint8Array {
  const b = Buffer.alloc(values.length * 8);
  values.forEach((v, i) => b.writeBigInt64LE(BigInt(v), i * 8));
  return b;
}
