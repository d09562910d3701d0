/**
 * Convolution kernel timings on tfjs-backend-wasm (single thread) at the real pix2pix layer shapes:
 * U-Net-256 (docs/reference.md#counts), the 70×70 PatchGAN on a 6-channel 256² input (docs/reference.md#discriminator, n_layers=3) and
 * a 6-level U-Net at 64². One JSON line per (op, layer, impl), then summary lines.
 *
 *   node --import tsx bench/kernels.ts [--reps 5] [--only unet256|patchgan70|unet64] [--all-paths] [--no-builtin]
 *
 * Whole-step profile (top kernels by exclusive and inclusive time, wasm heap and RSS after every step):
 *
 *   node --import tsx bench/kernels.ts --step 64|128|256 [--steps 6] [--ngf 64] [--builtin-conv] [--engine wasm|ort-cpu] [--threads N] [--top N]
 *
 * --builtin-conv measures the backend's own forward Conv2D instead of ours.
 *
 * Roles: for a conv layer, conv2d = forward, backpropInput = dx, backpropFilter = dW. For a
 * transposed-conv layer, conv2dTranspose = forward (the Conv2DBackpropInput kernel), conv2d = dx,
 * backpropFilter = dW. Every op of a layer has the same multiply-add count (docs/reference.md#counts "dense MACs").
 * conv2d rows: the backend's XNNPACK conv with a reused filter ("builtin cached-filter", the lower
 * bound) and with a new filter per call ("fresh-filter", as in training), and our kernel's choice.
 */
import * as tf from '../src/train/tfjs.ts';
import '@tensorflow/tfjs-backend-wasm';
import {
  configureFastWasmKernels,
  fastWasmKernelCallCounts,
  registerFastWasmKernels,
  resetFastWasmKernelCallCounts,
  type BackpropInputStrategy,
  type ConvForwardStrategy,
} from '../src/train/engines/wasm-kernels.ts';
import { CONV_FORWARD_STRATEGIES } from '../src/train/engines/wasm-kernels/geometry.ts';

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
    layers.push({ net, name: `e${i + 1}`, kind: 'conv', x: [1, h, h, c], k: 4, stride: 2, pad: 'same', outC: enc[i] });
    c = enc[i];
    h /= 2;
  }
  // Decoder layer j maps (j === 0 ? e_L : cat(d_{j-1}, e_{L-j})) to the channels of e_{L-1-j} (the last: outC).
  for (let j = 0; j < levels; j++) {
    const inChannels = j === 0 ? enc[levels - 1] : 2 * enc[levels - 1 - j];
    const outChannels = j === levels - 1 ? outC : enc[levels - 2 - j];
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
    return i >= 0 && i + 1 < a.length ? a[i + 1] : null;
  };
  const reps = Number(value('--reps') ?? '5');
  if (!Number.isInteger(reps) || reps < 1) throw new Error(`--reps must be a positive integer`);
  return { reps, only: value('--only'), allPaths: a.includes('--all-paths'), builtin: !a.includes('--no-builtin') };
}

function median(xs: number[]): number {
  const s = [...xs].sort((p, q) => p - q);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
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
      const backpropInput = (): tf.Tensor => tf.engine().runKernel<tf.Tensor>(tf.Conv2DBackpropInput, { dy, filter }, { ...attrs, inputShape: L.x });
      const backpropFilter = (): tf.Tensor => tf.engine().runKernel<tf.Tensor>(tf.Conv2DBackpropFilter, { x, dy }, { ...attrs, filterShape: filter.shape });
      const inputOp: Op = L.kind === 'conv' ? 'backpropInput' : 'conv2dTranspose';
      const measure = (op: Op, f: () => tf.Tensor, impl: 'fast' | 'builtin', path?: string): void => {
        const ms = timeMs(f, impl === 'builtin' ? Math.min(3, opt.reps) : opt.reps);
        emit({ op, layer: L.name, net: L.net, shape, ms, gflops: flops / ms / 1e6, impl, ...(path ? { path } : {}) });
      };
      const pathOf = (): string => {
        resetFastWasmKernelCallCounts();
        tf.tidy(backpropInput);
        return Object.keys(fastWasmKernelCallCounts())[0].split(':')[1];
      };

      // Forward of a conv / dx of a deconv. XNNPACK caches its packed filter per tensor, so a reused
      // filter is faster than in training, where every step brings new weights: report both, and the
      // fast kernel (which picks its path per shape) with fresh filters as in training.
      const convFresh = (label: string, impl: 'fast' | 'builtin' | 'fast-forced', strategy: ConvForwardStrategy | null): void => {
        configureFastWasmKernels({ convForwardStrategy: strategy });
        resetFastWasmKernelCallCounts();
        const ms = timeFreshFilterMs(filter, (wf) => tf.conv2d(x as tf.Tensor4D, wf as tf.Tensor4D, L.stride, L.pad), opt.reps);
        const path = Object.keys(fastWasmKernelCallCounts())[0].split(':')[1];
        const row = { op: 'conv2d' as const, layer: L.name, net: L.net, shape, ms, gflops: flops / ms / 1e6, path: `${path} ${label}` };
        if (impl === 'fast-forced') console.log(JSON.stringify({ ...row, ms: Number(ms.toFixed(2)), gflops: Number(row.gflops.toFixed(2)), impl }));
        else emit({ ...row, impl });
      };
      configureFastWasmKernels({ convForwardStrategy: 'builtin' });
      measure('conv2d', convForward, 'builtin', 'builtin cached-filter');
      convFresh('fresh-filter', 'builtin', 'builtin');
      convFresh('fresh-filter', 'fast', null);
      if (opt.allPaths) for (const s of CONV_FORWARD_STRATEGIES) convFresh('fresh-filter', 'fast-forced', s);
      configureFastWasmKernels({ convForwardStrategy: null });
      configureFastWasmKernels({ backpropInputStrategy: null });
      measure(inputOp, backpropInput, 'fast', pathOf());
      if (opt.allPaths) {
        for (const s of ['flip-conv', 's2d-conv', 'matmul-col2im'] as BackpropInputStrategy[]) {
          configureFastWasmKernels({ backpropInputStrategy: s });
          const p = pathOf();
          if (p !== s) continue;
          const ms = timeMs(backpropInput, opt.reps);
          console.log(
            JSON.stringify({
              op: inputOp,
              layer: L.name,
              net: L.net,
              path: s,
              ms: Number(ms.toFixed(2)),
              gflops: Number((flops / ms / 1e6).toFixed(2)),
              impl: 'fast-forced',
            }),
          );
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

  // conv2d counts with a fresh filter, as in training.
  const counted = (r: Row, impl: 'fast' | 'builtin'): boolean => r.impl === impl && (r.op !== 'conv2d' || (r.path ?? '').endsWith('fresh-filter'));
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
      gflops_fast: Number(((gflop / total) * 1e3).toFixed(2)),
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

async function profileStep(size: number): Promise<void> {
  const a = process.argv.slice(2);
  const has = (flag: string): boolean => a.includes(flag);
  const stepsIdx = a.indexOf('--steps');
  const steps = stepsIdx >= 0 ? Number(a[stepsIdx + 1]) : 6;
  if (!Number.isInteger(steps) || steps < 2) throw new Error('--steps must be an integer ≥ 2 (the first step is warm-up)');
  const { selectEngine } = await import('../src/train/engines/registry.ts');
  const { discriminatorArch, generatorArch } = await import('../src/nets/arch.ts');
  const { Pix2PixModel, Pix2PixStep } = await import('../src/train/model.ts');
  const { Adam } = await import('../src/train/adam.ts');
  const { Rng } = await import('../src/util/rng.ts');
  const value = (flag: string): string | undefined => (a.includes(flag) ? a[a.indexOf(flag) + 1] : undefined);
  const engineName = value('--engine') ?? 'wasm';
  if (engineName !== 'wasm' && engineName !== 'ort-cpu') throw new Error('--engine takes wasm or ort-cpu (the engines on the wasm backend)');
  const threads = value('--threads');
  await selectEngine(engineName, threads === undefined ? {} : { threads: Number(threads) });
  if (has('--builtin-conv')) configureFastWasmKernels({ convForwardStrategy: 'builtin' });
  const backend = tf.engine().backend as unknown as { wasm: { HEAPU8: Uint8Array } };

  // The optimizer's share of the step, whichever update is in place.
  let adamMs = 0;
  const apply = Adam.prototype.apply;
  Adam.prototype.apply = function (this: InstanceType<typeof Adam>, grads: Map<string, tf.Tensor>, lr: number): void {
    const t0 = performance.now();
    apply.call(this, grads, lr);
    if (recording) adamMs += performance.now() - t0;
  };

  // Exclusive time per kernel (nested primitive calls subtracted) and inclusive time of top-level kernels.
  const exclusive = new Map<string, { ms: number; calls: number }>();
  const inclusive = new Map<string, { ms: number; calls: number }>();
  const add = (map: Map<string, { ms: number; calls: number }>, key: string, ms: number): void => {
    const e = map.get(key) ?? { ms: 0, calls: 0 };
    e.ms += ms;
    e.calls += 1;
    map.set(key, e);
  };
  const childMs: number[] = [];
  let recording = false;
  for (const k of tf.getKernelsForBackend('wasm')) {
    const f = k.kernelFunc;
    tf.unregisterKernel(k.kernelName, 'wasm');
    tf.registerKernel({
      ...k,
      kernelFunc: (args) => {
        if (!recording) return f(args);
        childMs.push(0);
        const t0 = performance.now();
        const out = f(args);
        const dt = performance.now() - t0;
        const nested = childMs.pop()!;
        if (childMs.length > 0) childMs[childMs.length - 1] += dt;
        else add(inclusive, k.kernelName, dt);
        const isConv = k.kernelName.startsWith('Conv2D') || k.kernelName === 'BatchMatMul';
        const shapes = isConv
          ? ` ${Object.values(args.inputs)
              .map((t) => t?.shape.join('x') ?? '')
              .join(',')}`
          : '';
        add(exclusive, `${k.kernelName}${shapes}`, dt - nested);
        return out;
      },
    });
  }

  const depth = Math.log2(size);
  // --ngf 16 is the quick profiles' width (ngf = ndf).
  const ngf = Number(value('--ngf') ?? '64');
  const gArch = generatorArch({ depth, ngf, dropout: 'pytorch', concatOrder: 'skip-first' });
  const dArch = discriminatorArch({ nLayers: 3, ndf: ngf });
  const c = { loss: 'L1+cGAN', ganMode: 'vanilla', lambdaL1: 100, beta1: 0.5, seed: 0 } as const;
  const model = Pix2PixModel.create(c, { G: gArch, D: dArch });
  const trainer = new Pix2PixStep(c, model, new Rng(c.seed + 2));
  const rng = new Rng(1);
  const rand = (): tf.Tensor4D => tf.tensor4d(rng.uniformSigned(size * size * 3), [1, size, size, 3]);
  const A = rand();
  const B = rand();
  const mib = (bytes: number): number => Math.round(bytes / 2 ** 20);
  const times: number[] = [];
  const heap: number[] = [];
  const rss: number[] = [];
  for (let i = 0; i < steps; i++) {
    recording = i > 0;
    const t0 = performance.now();
    await trainer.step(A, B, 2e-4);
    if (i > 0) times.push(performance.now() - t0);
    heap.push(mib(backend.wasm.HEAPU8.buffer.byteLength));
    rss.push(mib(process.memoryUsage().rss));
  }
  const n = steps - 1;
  const sorted = [...times].sort((p, q) => p - q);
  const kernelMs = [...exclusive.values()].reduce((s, e) => s + e.ms, 0) / n;
  const flags = a.filter((x) => x === '--builtin-conv');
  console.log(
    JSON.stringify({
      profile: 'train-step',
      engine: engineName,
      threads: threads ?? null,
      size,
      ngf,
      steps: n,
      flags,
      median_ms: Math.round(sorted[n >> 1]),
      min_ms: Math.round(sorted[0]),
      kernel_ms_per_step: Math.round(kernelMs),
      kernel_calls_per_step: Math.round([...exclusive.values()].reduce((s, e) => s + e.calls, 0) / n),
      top_level_kernel_calls_per_step: Math.round([...inclusive.values()].reduce((s, e) => s + e.calls, 0) / n),
      adam_ms_per_step: Math.round(adamMs / n),
      outside_kernels_ms_per_step: Math.round(times.reduce((s, t) => s + t, 0) / n - kernelMs),
      peak_rss_mib: Math.round(process.resourceUsage().maxRSS / 1024),
      wasm_heap_mib_per_step: heap.join(','),
      rss_mib_per_step: rss.join(','),
    }),
  );
  const top = (map: Map<string, { ms: number; calls: number }>, what: string, count: number): void => {
    for (const [kernel, e] of [...map].sort((p, q) => q[1].ms - p[1].ms).slice(0, count)) {
      console.log(JSON.stringify({ top: what, kernel, ms_per_step: Number((e.ms / n).toFixed(1)), calls_per_step: e.calls / n }));
    }
  };
  const byName = new Map<string, { ms: number; calls: number }>();
  for (const [key, e] of exclusive) {
    const name = key.split(' ')[0];
    const b = byName.get(name) ?? { ms: 0, calls: 0 };
    b.ms += e.ms;
    b.calls += e.calls;
    byName.set(name, b);
  }
  top(byName, 'exclusive', 12);
  top(inclusive, 'inclusive', 8);
  top(exclusive, 'exclusive-by-shape', Number(value('--top') ?? 12));
  model.dispose();
  tf.dispose([A, B]);
}

const NETS = ['unet256', 'patchgan70', 'unet64'];
const stepArg = process.argv.indexOf('--step');
if (stepArg >= 0) {
  const size = Number(process.argv[stepArg + 1]);
  if (![64, 128, 256].includes(size)) throw new Error('--step takes 64, 128 or 256');
  await profileStep(size);
} else if (args().only === null) {
  // One process per network: the wasm heap never shrinks and is capped at 4 GiB; an allocation past
  // the cap aborts the process (`Aborted()`), which one long run of all networks once did.
  const { spawnSync } = await import('node:child_process');
  for (const net of NETS) {
    const child = spawnSync(process.execPath, [...process.execArgv, process.argv[1], ...process.argv.slice(2), '--only', net], { stdio: 'inherit' });
    if (child.status !== 0) process.exit(child.status ?? 1);
  }
} else {
  await tf.setBackend('wasm');
  registerFastWasmKernels();
  main();
}
