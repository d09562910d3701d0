/**
 * Convolution kernel timings on tfjs-backend-wasm (single thread) at the real pix2pix layer shapes:
 * U-Net-256 (spec §1.3), the 70×70 PatchGAN on a 6-channel 256² input (spec §2.4, n_layers=3) and
 * a 6-level U-Net at 64². One JSON line per (op, layer, impl), then summary lines.
 *
 *   node --import tsx bench/kernels.ts [--reps 5] [--only unet256|patchgan70|unet64] [--all-paths] [--no-builtin]
 *
 * Roles: for a conv layer, conv2d = forward, backpropInput = dx, backpropFilter = dW. For a
 * transposed-conv layer, conv2dTranspose = forward (the Conv2DBackpropInput kernel), conv2d = dx,
 * backpropFilter = dW. Every op of a layer has the same multiply-add count (spec §1.3 "dense MACs").
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import {
  configureFastWasmKernels,
  fastWasmKernelCallCounts,
  registerFastWasmKernels,
  resetFastWasmKernelCallCounts,
  type BackpropInputStrategy,
} from '../src/train/engines/wasm-kernels.ts';

type Pad = 'same' | 'valid' | tf.backend_util.ExplicitPadding;
type Op = 'conv2d' | 'conv2dTranspose' | 'backpropInput' | 'backpropFilter';

/** A forward convolution x[N,H,W,Cin] * w[k,k,Cin,Cout] (conv) or its transpose (deconv: in/out swapped). */
interface Layer {
  net: string;
  name: string;
  kind: 'conv' | 'deconv';
  /** Input of the forward conv (for a deconv: its output, the "x" of the equivalent conv). */
  x: [number, number, number, number];
  k: number;
  stride: number;
  pad: Pad;
  /** Channels of the conv's output (for a deconv: the channels of the deconv's input). */
  outC: number;
}

const P1: tf.backend_util.ExplicitPadding = [
  [0, 0],
  [1, 1],
  [1, 1],
  [0, 0],
];

function unet(net: string, size: number, levels: number, inC: number, outC: number, ngf: number): Layer[] {
  const enc: number[] = [];
  for (let i = 0; i < levels; i++) enc.push(ngf * Math.min(8, 2 ** i));
  const layers: Layer[] = [];
  let h = size;
  let c = inC;
  for (let i = 0; i < levels; i++) {
    layers.push({ net, name: `e${i + 1}`, kind: 'conv', x: [1, h, h, c], k: 4, stride: 2, pad: 'same', outC: enc[i]! });
    c = enc[i]!;
    h /= 2;
  }
  // Decoder layer j maps (j === 0 ? e_L : cat(d_{j-1}, e_{L-j})) to the channels of e_{L-1-j} (the last: outC).
  for (let j = 0; j < levels; j++) {
    const inChannels = j === 0 ? enc[levels - 1]! : 2 * enc[levels - 1 - j]!;
    const outChannels = j === levels - 1 ? outC : enc[levels - 2 - j]!;
    const hOut = h * 2;
    layers.push({ net, name: `d${j + 1}`, kind: 'deconv', x: [1, hOut, hOut, outChannels], k: 4, stride: 2, pad: 'same', outC: inChannels });
    h = hOut;
  }
  return layers;
}

function patchGan70(): Layer[] {
  const net = 'patchgan70';
  return [
    { net, name: 'c1', kind: 'conv', x: [1, 256, 256, 6], k: 4, stride: 2, pad: 'same', outC: 64 },
    { net, name: 'c2', kind: 'conv', x: [1, 128, 128, 64], k: 4, stride: 2, pad: 'same', outC: 128 },
    { net, name: 'c3', kind: 'conv', x: [1, 64, 64, 128], k: 4, stride: 2, pad: 'same', outC: 256 },
    { net, name: 'c4', kind: 'conv', x: [1, 32, 32, 256], k: 4, stride: 1, pad: P1, outC: 512 },
    { net, name: 'c5', kind: 'conv', x: [1, 31, 31, 512], k: 4, stride: 1, pad: P1, outC: 1 },
  ];
}

function args(): { reps: number; only: string | null; allPaths: boolean; builtin: boolean } {
  const a = process.argv.slice(2);
  const value = (flag: string): string | null => {
    const i = a.indexOf(flag);
    return i >= 0 && i + 1 < a.length ? a[i + 1]! : null;
  };
  const reps = Number(value('--reps') ?? '5');
  if (!Number.isInteger(reps) || reps < 1) throw new Error(`--reps must be a positive integer`);
  return { reps, only: value('--only'), allPaths: a.includes('--all-paths'), builtin: !a.includes('--no-builtin') };
}

function median(xs: number[]): number {
  const s = [...xs].sort((p, q) => p - q);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

function timeMs(f: () => tf.Tensor, reps: number): number {
  tf.tidy(f); // warm-up: xnnpack operator creation, heap growth
  const ts: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    tf.tidy(f);
    ts.push(performance.now() - t0);
  }
  return median(ts);
}

/** Like timeMs, but each call gets its own copy of the filter, as in training where weights change every step. */
function timeFreshFilterMs(filter: tf.Tensor, f: (w: tf.Tensor) => tf.Tensor, reps: number): number {
  const copies = Array.from({ length: reps + 1 }, () => filter.clone().add(0));
  const ts: number[] = [];
  copies.forEach((w, r) => {
    const t0 = performance.now();
    tf.tidy(() => f(w));
    if (r > 0) ts.push(performance.now() - t0);
  });
  tf.dispose(copies);
  return median(ts);
}

function padLabel(p: Pad): string {
  return typeof p === 'string' ? p : `p${p[1][0]}`;
}

interface Row {
  op: Op;
  layer: string;
  net: string;
  shape: string;
  ms: number;
  gflops: number;
  impl: 'fast' | 'builtin';
  path?: string;
}

function main(): void {
  const opt = args();
  const nets: Layer[][] = [unet('unet256', 256, 8, 3, 3, 64), patchGan70(), unet('unet64', 64, 6, 3, 3, 64)];
  const rows: Row[] = [];
  const emit = (row: Row): void => {
    rows.push(row);
    console.log(JSON.stringify({ ...row, ms: Number(row.ms.toFixed(2)), gflops: Number(row.gflops.toFixed(2)) }));
  };

  for (const layers of nets) {
    for (const L of layers) {
      if (opt.only !== null && L.net !== opt.only) continue;
      const [n, h, w, c] = L.x;
      const x = tf.randomNormal(L.x);
      const filter = tf.randomNormal([L.k, L.k, c, L.outC]);
      const y = tf.conv2d(x as tf.Tensor4D, filter as tf.Tensor4D, L.stride, L.pad);
      const dy = tf.randomNormal(y.shape);
      const flops = 2 * y.shape[1] * y.shape[2] * L.outC * c * L.k * L.k * n;
      const shape = `x=${n}x${h}x${w}x${c} w=${L.k}x${L.k}x${c}x${L.outC} y=${y.shape.join('x')} s${L.stride} ${padLabel(L.pad)}`;
      const attrs = { strides: L.stride, pad: L.pad, dataFormat: 'NHWC' } as const;
      const convForward = (): tf.Tensor => tf.conv2d(x as tf.Tensor4D, filter as tf.Tensor4D, L.stride, L.pad);
      // Conv2DBackpropInput: dx of the conv, and also the forward of the deconv (its input is dy).
      const backpropInput = (): tf.Tensor =>
        tf.engine().runKernel(tf.Conv2DBackpropInput, { dy, filter }, { ...attrs, inputShape: L.x } as unknown as tf.NamedAttrMap) as tf.Tensor;
      const backpropFilter = (): tf.Tensor =>
        tf.engine().runKernel(tf.Conv2DBackpropFilter, { x, dy }, { ...attrs, filterShape: filter.shape } as unknown as tf.NamedAttrMap) as tf.Tensor;
      const inputOp: Op = L.kind === 'conv' ? 'backpropInput' : 'conv2dTranspose';
      const measure = (op: Op, f: () => tf.Tensor, impl: 'fast' | 'builtin', path?: string): void => {
        const ms = timeMs(f, impl === 'builtin' ? Math.min(3, opt.reps) : opt.reps);
        emit({ op, layer: L.name, net: L.net, shape, ms, gflops: flops / ms / 1e6, impl, ...(path ? { path } : {}) });
      };
      const pathOf = (): string => {
        resetFastWasmKernelCallCounts();
        tf.tidy(backpropInput);
        return Object.keys(fastWasmKernelCallCounts())[0]!.split(':')[1]!;
      };

      // Forward of a conv / dx of a deconv: the wasm backend's own conv2d. XNNPACK caches its packed
      // filter per tensor, so a reused filter is faster than in training; both are reported.
      measure('conv2d', convForward, 'builtin', 'cached-filter');
      {
        const ms = timeFreshFilterMs(filter, (wf) => tf.conv2d(x as tf.Tensor4D, wf as tf.Tensor4D, L.stride, L.pad), opt.reps);
        emit({ op: 'conv2d', layer: L.name, net: L.net, shape, ms, gflops: flops / ms / 1e6, impl: 'builtin', path: 'fresh-filter' });
      }
      configureFastWasmKernels({ backpropInputStrategy: null });
      measure(inputOp, backpropInput, 'fast', pathOf());
      if (opt.allPaths) {
        for (const s of ['flip-conv', 's2d-conv', 'matmul-col2im'] as BackpropInputStrategy[]) {
          configureFastWasmKernels({ backpropInputStrategy: s });
          const p = pathOf();
          if (p !== s) continue;
          const ms = timeMs(backpropInput, opt.reps);
          console.log(JSON.stringify({ op: inputOp, layer: L.name, net: L.net, path: s, ms: Number(ms.toFixed(2)), gflops: Number((flops / ms / 1e6).toFixed(2)), impl: 'fast-forced' }));
        }
        configureFastWasmKernels({ backpropInputStrategy: null });
      }
      if (opt.builtin) {
        configureFastWasmKernels({ backpropInputStrategy: 'builtin' });
        measure(inputOp, backpropInput, 'builtin');
        configureFastWasmKernels({ backpropInputStrategy: null });
      }
      measure('backpropFilter', backpropFilter, 'fast');
      tf.dispose([x, filter, y, dy]);
    }
  }

  // conv2d is always the built-in kernel; count it once, with a fresh filter as in training.
  const counted = (r: Row, impl: 'fast' | 'builtin'): boolean => (r.op === 'conv2d' ? r.path === 'fresh-filter' : r.impl === impl);
  const sum = (net: string, impl: 'fast' | 'builtin', pred: (r: Row) => boolean = () => true): number =>
    rows.filter((r) => r.net === net && pred(r) && counted(r, impl)).reduce((s, r) => s + r.ms, 0);
  for (const net of ['unet256', 'patchgan70', 'unet64']) {
    if (!rows.some((r) => r.net === net)) continue;
    const netRows = rows.filter((r) => r.net === net && counted(r, 'fast'));
    const gflop = netRows.reduce((s, r) => s + (r.gflops * r.ms) / 1e3, 0);
    const total = sum(net, 'fast');
    const summary: Record<string, unknown> = {
      summary: net,
      what: 'forward + dx + dW of every conv layer, batch 1, conv2d with a fresh filter as in training',
      ms_fast: Number(total.toFixed(1)),
      gflop: Number(gflop.toFixed(2)),
      gflops_fast: Number((gflop / total * 1e3).toFixed(2)),
    };
    if (opt.builtin) {
      // With the built-in kernels dW cannot be computed at all (no Conv2DBackpropFilter); compare the rest.
      const noDw = (r: Row): boolean => r.op !== 'backpropFilter';
      summary['ms_fast_without_dW'] = Number(sum(net, 'fast', noDw).toFixed(1));
      summary['ms_builtin_without_dW'] = Number(sum(net, 'builtin', noDw).toFixed(1));
    }
    console.log(JSON.stringify(summary));
  }
}

const NETS = ['unet256', 'patchgan70', 'unet64'];
if (args().only === null) {
  // One process per network: the wasm heap never shrinks, and after the big U-Net-256 layers plus
  // the built-in kernel comparisons one long run has aborted inside XNNPACK (see the report).
  const { spawnSync } = await import('node:child_process');
  for (const net of NETS) {
    const child = spawnSync(process.execPath, [...process.execArgv, process.argv[1]!, ...process.argv.slice(2), '--only', net], { stdio: 'inherit' });
    if (child.status !== 0) process.exit(child.status ?? 1);
  }
} else {
  await tf.setBackend('wasm');
  registerFastWasmKernels();
  main();
}
