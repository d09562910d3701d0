/**
 * Concat, SplitV and Cast for the tfjs wasm backend without per-row overhead.
 *
 * The backend's Concat and SplitV (through its Slice) copy one innermost row at a time with
 * `subarray` + `set`, which allocates a typed-array view per row. The U-Net concatenates its skip
 * connections along channels, so a row is 16–128 floats and the view costs more than the copy:
 * on a unet_128 ngf-16 step Concat and SplitV took 12 ms for 16 calls that move ~1 MB in all
 * (bench/kernels.ts --step 128 --ngf 16). Here short rows are copied by a plain loop and long
 * ones with one `set` each.
 *
 * The backend's Cast copies its input even when the dtype does not change; tfjs's gradients cast
 * float32 to float32 on every Multiply and Mean (~175 copies per step). Same-dtype casts share the
 * buffer with a reference count instead, as the `Identity` kernel of ../wasm-kernels.ts does.
 */
import * as tf from '../../tfjs.ts';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

type TensorInfo = tf.TensorInfo;
type HeapArray = Float32Array | Int32Array | Uint8Array;
type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap };

/** Rows at least this long are copied with one `set` (a view per row pays off); shorter ones element by element. */
const SET_MIN_ROW = 64;

/**
 * Copy `rows` rows of `len` values: row r goes from src[srcOffset + r·srcStride …] to
 * dst[dstOffset + r·dstStride …].
 */
export function copyRows(
  src: HeapArray,
  srcOffset: number,
  srcStride: number,
  dst: HeapArray,
  dstOffset: number,
  dstStride: number,
  len: number,
  rows: number,
): void {
  if (len >= SET_MIN_ROW || rows === 1) {
    for (let r = 0; r < rows; r++) {
      const s = srcOffset + r * srcStride;
      dst.set(src.subarray(s, s + len), dstOffset + r * dstStride);
    }
    return;
  }
  for (let r = 0; r < rows; r++) {
    const s = srcOffset + r * srcStride;
    const d = dstOffset + r * dstStride;
    for (let i = 0; i < len; i++) dst[d + i] = src[s + i];
  }
}

const NUMERIC = new Set(['float32', 'int32', 'bool']);

function heap(backend: BackendWasm, t: TensorInfo): HeapArray {
  return backend.typedArrayFromHeap(t);
}

/** Concat of numeric tensors along any axis; null when the built-in kernel should run (strings). */
export function concatFast(args: KernelArgs): TensorInfo | null {
  const backend = args.backend as BackendWasm;
  const inputs = args.inputs as unknown as TensorInfo[];
  const dtype = inputs[0].dtype;
  if (!NUMERIC.has(dtype) || inputs.some((t) => t.dtype !== dtype)) return null;
  const axis = tf.util.parseAxisParam((args.attrs as unknown as { axis: number | number[] }).axis, inputs[0].shape)[0];
  tf.backend_util.assertParamsConsistent(
    inputs.map((t) => t.shape),
    axis,
  );
  const outShape = tf.backend_util.computeOutShape(
    inputs.map((t) => t.shape),
    axis,
  );
  const parts = inputs.filter((t) => tf.util.sizeFromShape(t.shape) > 0);
  const out = backend.makeOutput(outShape, dtype);
  if (parts.length === 0) return out;
  const outer = tf.util.sizeFromShape(outShape.slice(0, axis));
  const inner = parts.map((t) => tf.util.sizeFromShape(t.shape.slice(axis)));
  const outRow = inner.reduce((s, n) => s + n, 0);
  // Views after the last allocation (growing the heap detaches earlier views).
  const dst = heap(backend, out);
  let offset = 0;
  parts.forEach((t, i) => {
    copyRows(heap(backend, t), 0, inner[i], dst, offset, outRow, inner[i], outer);
    offset += inner[i];
  });
  return out;
}

/** SplitV of a numeric tensor; null when the built-in kernel should run (strings). */
export function splitVFast(args: KernelArgs): TensorInfo[] | null {
  const backend = args.backend as BackendWasm;
  const { x } = args.inputs as { x: TensorInfo };
  if (!NUMERIC.has(x.dtype)) return null;
  const { numOrSizeSplits, axis } = args.attrs as unknown as { numOrSizeSplits: number | number[]; axis: number };
  const ax = tf.util.parseAxisParam(axis, x.shape)[0];
  const sizes = tf.backend_util.prepareSplitSize(x, numOrSizeSplits, ax);
  const outer = tf.util.sizeFromShape(x.shape.slice(0, ax));
  const unit = tf.util.sizeFromShape(x.shape.slice(ax + 1));
  const row = x.shape[ax] * unit;
  const outs = sizes.map((s) =>
    backend.makeOutput(
      x.shape.map((d, i) => (i === ax ? s : d)),
      x.dtype,
    ),
  );
  const src = heap(backend, x);
  let offset = 0;
  outs.forEach((out, i) => {
    const len = sizes[i] * unit;
    if (len > 0) copyRows(src, offset, row, heap(backend, out), 0, len, len, outer);
    offset += len;
  });
  return outs;
}

/** Cast to the input's own dtype: the same buffer, one more reference. Null for a real conversion. */
export function castSameDtype(args: KernelArgs): TensorInfo | null {
  const { x } = args.inputs as { x: TensorInfo };
  const { dtype } = args.attrs as unknown as { dtype: tf.DataType };
  if (dtype !== x.dtype || x.dtype === 'string') return null;
  (args.backend as { incRef(dataId: object): void }).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype };
}
