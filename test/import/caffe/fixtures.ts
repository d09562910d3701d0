/**
 * Small Caffe nets for the importer's tests: prototxt text (FCN-8s topology with narrow channels, and
 * a V1-format net exercising the other layer options), caffemodels encoded with the importer's own
 * caffe.proto schema in both layer formats and both blob shape encodings, and an independent
 * forward pass in direct loops that follows Caffe's layer code (not the ONNX operators).
 */
import { writeFileSync } from 'node:fs';
import { NetParameterType } from '../../../src/import/caffe/caffe-proto.ts';
import { parseCaffeNet, type CaffeNetDef } from '../../../src/import/caffe/net.ts';
import { bool, child, num, numbers, str } from '../../../src/import/caffe/prototxt.ts';
import { Rng } from '../../../src/util/rng.ts';

export interface Widths {
  c1: number;
  c2: number;
  c3: number;
  c4: number;
  c5: number;
  fc: number;
  classes: number;
}

const conv = (name: string, bottom: string, n: number, k: number, pad: number, extra = ''): string =>
  `layer { name: "${name}" type: "Convolution" bottom: "${bottom}" top: "${name}"\n  param { lr_mult: 1 } param { lr_mult: 2 }\n  convolution_param { num_output: ${n} pad: ${pad} kernel_size: ${k} stride: 1 ${extra} weight_filler { type: "gaussian" std: 0.01 } } }\n`;
const relu = (name: string, blob: string): string => `layer { name: "${name}" type: "ReLU" bottom: "${blob}" top: "${blob}" }\n`;
const pool = (name: string, bottom: string): string =>
  `layer { name: "${name}" type: "Pooling" bottom: "${bottom}" top: "${name}" pooling_param { pool: MAX kernel_size: 2 stride: 2 } }\n`;

/** The FCN-8s deploy.prototxt of pix2pix's eval_cityscapes with narrow channels (same layers, names, pads, crops). */
export function fcn8sPrototxt(w: Widths): string {
  let s =
    '# FCN-8s topology, narrow\nlayer {\n  name: "data"\n  type: "Input"\n  top: "data"\n  input_param { shape { dim: 1 dim: 3 dim: 500 dim: 500 } }\n}\n';
  const stages: [number, number][] = [
    [w.c1, 2],
    [w.c2, 2],
    [w.c3, 3],
    [w.c4, 3],
    [w.c5, 3],
  ];
  let prev = 'data';
  stages.forEach(([c, n], i) => {
    for (let j = 1; j <= n; j++) {
      const name = `conv${i + 1}_${j}`;
      s += conv(name, prev, c, 3, i === 0 && j === 1 ? 100 : 1);
      s += relu(`relu${i + 1}_${j}`, name);
      prev = name;
    }
    s += pool(`pool${i + 1}`, prev);
    prev = `pool${i + 1}`;
  });
  s += conv('fc6_cs', 'pool5', w.fc, 7, 0) + relu('relu6_cs', 'fc6_cs');
  s += conv('fc7_cs', 'fc6_cs', w.fc, 1, 0) + relu('relu7_cs', 'fc7_cs');
  s += conv('score_fr', 'fc7_cs', w.classes, 1, 0);
  const deconv = (name: string, bottom: string, k: number, st: number): string =>
    `layer { name: "${name}" type: "Deconvolution" bottom: "${bottom}" top: "${name}" param { lr_mult: 1 }\n  convolution_param { num_output: ${w.classes} bias_term: false kernel_size: ${k} stride: ${st} } }\n`;
  const crop = (name: string, a: string, b: string, off: number): string =>
    `layer { name: "${name}" type: "Crop" bottom: "${a}" bottom: "${b}" top: "${name}" crop_param { axis: 2 offset: ${off} } }\n`;
  const sum = (name: string, a: string, b: string): string =>
    `layer { name: "${name}" type: "Eltwise" bottom: "${a}" bottom: "${b}" top: "${name}" eltwise_param { operation: SUM } }\n`;
  s += deconv('upscore2', 'score_fr', 4, 2);
  s += conv('score_pool4', 'pool4', w.classes, 1, 0);
  s += crop('score_pool4c', 'score_pool4', 'upscore2', 5);
  s += sum('fuse_pool4', 'upscore2', 'score_pool4c');
  s += deconv('upscore_pool4', 'fuse_pool4', 4, 2);
  s += conv('score_pool3', 'pool3', w.classes, 1, 0);
  s += crop('score_pool3c', 'score_pool3', 'upscore_pool4', 9);
  s += sum('fuse_pool3', 'upscore_pool4', 'score_pool3c');
  s += deconv('upscore8', 'fuse_pool3', 16, 8);
  s += crop('score', 'upscore8', 'data', 31);
  return s;
}

/**
 * A V1-format (`layers { type: CONVOLUTION }`, net-level input_dim) net for the options FCN-8s does
 * not use: dilation, group, bias_term false, leaky ReLU, Eltwise PROD/MAX/SUM with coeff, Concat,
 * Dropout, a strided convolution, AVE pooling whose last window is clipped, MAX pooling whose padded last window Caffe drops,
 * grouped deconvolution with padding, Softmax. Input 3×14×14.
 */
export function v1Prototxt(): string {
  return `name: "v1net"
input: "data"
input_dim: 1
input_dim: 3
input_dim: 14
input_dim: 14
layers { name: "conv_a" type: CONVOLUTION bottom: "data" top: "conv_a" convolution_param { num_output: 4 kernel_size: 3 pad: 1 } }
layers { name: "relu_a" type: RELU bottom: "conv_a" top: "conv_a" relu_param { negative_slope: 0.1 } }
layers { name: "conv_b" type: CONVOLUTION bottom: "data" top: "conv_b" convolution_param { num_output: 4 kernel_size: 3 pad: 2 dilation: 2 group: 1 bias_term: false } }
layers { name: "conv_g" type: CONVOLUTION bottom: "conv_b" top: "conv_g" convolution_param { num_output: 4 kernel_h: 3 kernel_w: 1 pad_h: 1 pad_w: 0 group: 2 } }
layers { name: "prod" type: ELTWISE bottom: "conv_a" bottom: "conv_g" top: "prod" eltwise_param { operation: PROD } }
layers { name: "maxe" type: ELTWISE bottom: "conv_a" bottom: "conv_g" top: "maxe" eltwise_param { operation: MAX } }
layers { name: "sume" type: ELTWISE bottom: "prod" bottom: "maxe" top: "sume" eltwise_param { operation: SUM coeff: 0.5 coeff: -2 } }
layers { name: "cat" type: CONCAT bottom: "sume" bottom: "conv_a" top: "cat" concat_param { concat_dim: 1 } }
layers { name: "drop" type: DROPOUT bottom: "cat" top: "cat" dropout_param { dropout_ratio: 0.5 } }
layers { name: "pool_ave" type: POOLING bottom: "cat" top: "pool_ave" pooling_param { pool: AVE kernel_size: 3 stride: 2 } }
layers { name: "pool_max" type: POOLING bottom: "cat" top: "pool_max" pooling_param { pool: MAX kernel_size: 3 stride: 3 pad: 1 } }
layers { name: "pool_avep" type: POOLING bottom: "cat" top: "pool_avep" pooling_param { pool: AVE kernel_size: 3 stride: 2 pad: 1 } }
layers { name: "conv_s" type: CONVOLUTION bottom: "cat" top: "conv_s" convolution_param { num_output: 8 kernel_size: 3 stride: 2 pad: 1 } }
layers { name: "mix" type: ELTWISE bottom: "pool_ave" bottom: "conv_s" top: "mix" }
layers { name: "up_a" type: DECONVOLUTION bottom: "mix" top: "up_a" convolution_param { num_output: 4 kernel_size: 4 stride: 2 pad: 1 group: 2 bias_term: false } }
layers { name: "up_b" type: DECONVOLUTION bottom: "pool_max" top: "up_b" convolution_param { num_output: 4 kernel_size: 4 stride: 3 pad: 1 } }
layers { name: "up_c" type: DECONVOLUTION bottom: "pool_avep" top: "up_c" convolution_param { num_output: 4 kernel_size: 4 stride: 2 pad: 2 } }
layers { name: "fuse" type: ELTWISE bottom: "up_a" bottom: "up_b" bottom: "up_c" top: "fuse" }
layers { name: "prob" type: SOFTMAX bottom: "fuse" top: "prob" }
`;
}

// ------------------------------------------------------------------------------------------------
// Weights and caffemodels

export type Weights = Map<string, { shape: number[]; data: Float32Array }[]>;

/** Random weights for every Convolution/Deconvolution of `net` (shapes from the prototxt and the input). */
export function randomWeights(net: CaffeNetDef, seed: number): Weights {
  const rng = new Rng(seed);
  const rand = (): number => rng.nextUint32() / 2 ** 32;
  const channels = new Map<string, number>(net.inputs.map((i) => [i.name, i.shape[1]]));
  const out: Weights = new Map();
  for (const l of net.layers) {
    const inC = channels.get(l.bottoms[0]) ?? 0;
    const p = child(l.msg, 'convolution_param');
    let outC = inC;
    if (l.type === 'Convolution' || l.type === 'Deconvolution') {
      outC = num(p, 'num_output', 0, '');
      const ks = numbers(p, 'kernel_size', '');
      const kh = num(p, 'kernel_h', ks[0] ?? 0, '');
      const kw = num(p, 'kernel_w', ks[1] ?? ks[0] ?? 0, '');
      const g = num(p, 'group', 1, '');
      const shape = l.type === 'Convolution' ? [outC, inC / g, kh, kw] : [inC, outC / g, kh, kw];
      const n = shape.reduce((a, b) => a * b, 1);
      // Scale like a fan-in init so activations stay O(1) through the deep narrow net.
      const scale = Math.sqrt(2 / ((l.type === 'Convolution' ? inC / g : outC / g) * kh * kw));
      const blobs = [{ shape, data: Float32Array.from({ length: n }, () => (rand() * 2 - 1) * scale) }];
      if (bool(p, 'bias_term', true)) blobs.push({ shape: [outC], data: Float32Array.from({ length: outC }, () => rand() - 0.5) });
      out.set(l.name, blobs);
    } else if (l.type === 'Concat') {
      outC = l.bottoms.reduce((s, b) => s + (channels.get(b) ?? 0), 0);
    }
    for (const t of l.tops) channels.set(t, outC);
  }
  return out;
}

const V1_CODES: Record<string, string> = { Convolution: 'CONVOLUTION', Deconvolution: 'DECONVOLUTION', ReLU: 'RELU', Pooling: 'POOLING' };

/**
 * Encode a caffemodel: `format` 'v2' = `layer` entries with BlobShape; 'v1' = legacy `layers` with
 * num/channels/height/width blobs (the shapes old Caffe wrote: biases as 1×1×1×N).
 */
export function encodeCaffemodel(net: CaffeNetDef, weights: Weights, format: 'v1' | 'v2'): Uint8Array {
  const layers = net.layers
    .filter((l) => format === 'v2' || V1_CODES[l.type])
    .map((l) => {
      const blobs = (weights.get(l.name) ?? []).map((b) => {
        if (format === 'v2') return { shape: { dim: b.shape }, data: Array.from(b.data) };
        const d = b.shape.length === 1 ? [1, 1, 1, b.shape[0]] : b.shape;
        return { num: d[0], channels: d[1], height: d[2], width: d[3], data: Array.from(b.data) };
      });
      return format === 'v2'
        ? { name: l.name, type: l.type, bottom: l.bottoms, top: l.tops, blobs }
        : { name: l.name, type: V1_CODES[l.type], bottom: l.bottoms, top: l.tops, blobs };
    });
  const msg = NetParameterType.fromObject(format === 'v2' ? { name: net.name, layer: layers } : { name: net.name, layers });
  return NetParameterType.encode(msg).finish();
}

export function writeNet(dir: string, prototxt: string, weights: Uint8Array): { prototxt: string; caffemodel: string } {
  const p = `${dir}/deploy.prototxt`;
  const m = `${dir}/net.caffemodel`;
  writeFileSync(p, prototxt);
  writeFileSync(m, weights);
  return { prototxt: p, caffemodel: m };
}

// ------------------------------------------------------------------------------------------------
// Independent forward pass (Caffe's layer code, direct loops, batch 1)

export interface T3 {
  c: number;
  h: number;
  w: number;
  d: Float32Array;
}

const at = (t: T3, c: number, y: number, x: number): number => t.d[(c * t.h + y) * t.w + x];

function convForward(
  x: T3,
  wt: Float32Array,
  bias: Float32Array | undefined,
  o: number,
  kh: number,
  kw: number,
  ph: number,
  pw: number,
  sh: number,
  sw: number,
  dh: number,
  dw: number,
  g: number,
): T3 {
  const H = Math.floor((x.h + 2 * ph - (dh * (kh - 1) + 1)) / sh) + 1;
  const W = Math.floor((x.w + 2 * pw - (dw * (kw - 1) + 1)) / sw) + 1;
  const out = new Float32Array(o * H * W);
  const cin = x.c / g;
  const og = o / g;
  for (let oc = 0; oc < o; oc++) {
    const grp = Math.floor(oc / og);
    for (let y = 0; y < H; y++) {
      for (let xx = 0; xx < W; xx++) {
        let s = bias ? bias[oc] : 0;
        for (let ic = 0; ic < cin; ic++) {
          for (let ky = 0; ky < kh; ky++) {
            const iy = y * sh - ph + ky * dh;
            if (iy < 0 || iy >= x.h) continue;
            for (let kx = 0; kx < kw; kx++) {
              const ix = xx * sw - pw + kx * dw;
              if (ix < 0 || ix >= x.w) continue;
              s += wt[((oc * cin + ic) * kh + ky) * kw + kx] * at(x, grp * cin + ic, iy, ix);
            }
          }
        }
        out[(oc * H + y) * W + xx] = s;
      }
    }
  }
  return { c: o, h: H, w: W, d: out };
}

/** Caffe's deconvolution: every input pixel scatters its kernel into the output (col2im), then crop by pad. */
function deconvForward(x: T3, wt: Float32Array, bias: Float32Array | undefined, o: number, k: number, s: number, p: number, g: number): T3 {
  const H = s * (x.h - 1) + k - 2 * p;
  const W = s * (x.w - 1) + k - 2 * p;
  const out = new Float32Array(o * H * W);
  const cin = x.c / g;
  const og = o / g;
  for (let ic = 0; ic < x.c; ic++) {
    const grp = Math.floor(ic / cin);
    for (let y = 0; y < x.h; y++) {
      for (let xx = 0; xx < x.w; xx++) {
        const v = at(x, ic, y, xx);
        for (let j = 0; j < og; j++) {
          const oc = grp * og + j;
          for (let ky = 0; ky < k; ky++) {
            const oy = y * s - p + ky;
            if (oy < 0 || oy >= H) continue;
            for (let kx = 0; kx < k; kx++) {
              const ox = xx * s - p + kx;
              if (ox < 0 || ox >= W) continue;
              out[(oc * H + oy) * W + ox] += v * wt[((ic * og + j) * k + ky) * k + kx];
            }
          }
        }
      }
    }
  }
  if (bias) for (let oc = 0; oc < o; oc++) for (let i = 0; i < H * W; i++) out[oc * H * W + i] += bias[oc];
  return { c: o, h: H, w: W, d: out };
}

/** pooling_layer.cpp: ceil output size, drop a last window that starts in the padding, AVE divisor clipped to H + pad. */
function poolForward(x: T3, max: boolean, k: number, s: number, p: number): T3 {
  const size = (n: number): number => {
    let o = Math.ceil((n + 2 * p - k) / s) + 1;
    if (p > 0 && (o - 1) * s >= n + p) o--;
    return o;
  };
  const H = size(x.h);
  const W = size(x.w);
  const out = new Float32Array(x.c * H * W);
  for (let c = 0; c < x.c; c++) {
    for (let py = 0; py < H; py++) {
      for (let px = 0; px < W; px++) {
        let hs = py * s - p;
        let ws = px * s - p;
        let he = Math.min(hs + k, x.h + p);
        let we = Math.min(ws + k, x.w + p);
        const poolSize = (he - hs) * (we - ws);
        hs = Math.max(hs, 0);
        ws = Math.max(ws, 0);
        he = Math.min(he, x.h);
        we = Math.min(we, x.w);
        let v = max ? -Infinity : 0;
        for (let y = hs; y < he; y++) for (let xx = ws; xx < we; xx++) v = max ? Math.max(v, at(x, c, y, xx)) : v + at(x, c, y, xx);
        out[(c * H + py) * W + px] = max ? v : v / poolSize;
      }
    }
  }
  return { c: x.c, h: H, w: W, d: out };
}

function cropForward(x: T3, ref: T3, off: number): T3 {
  const out = new Float32Array(x.c * ref.h * ref.w);
  for (let c = 0; c < x.c; c++)
    for (let y = 0; y < ref.h; y++) for (let xx = 0; xx < ref.w; xx++) out[(c * ref.h + y) * ref.w + xx] = at(x, c, y + off, xx + off);
  return { c: x.c, h: ref.h, w: ref.w, d: out };
}

/** Run `net` on `input` with `weights`; returns the last layer's top. */
export function referenceForward(net: CaffeNetDef, weights: Weights, input: T3): T3 {
  const blobs = new Map<string, T3>([[net.inputs[0].name, input]]);
  let last = input;
  for (const l of net.layers) {
    const x = blobs.get(l.bottoms[0])!;
    let y: T3;
    const p = child(l.msg, l.type === 'Convolution' || l.type === 'Deconvolution' ? 'convolution_param' : 'pooling_param');
    if (l.type === 'Convolution' || l.type === 'Deconvolution') {
      const w = weights.get(l.name)!;
      const o = num(p, 'num_output', 0, '');
      const ks = numbers(p, 'kernel_size', '');
      const kh = num(p, 'kernel_h', ks[0] ?? 0, '');
      const kw = num(p, 'kernel_w', ks[0] ?? 0, '');
      const pads = numbers(p, 'pad', '');
      const ph = num(p, 'pad_h', pads[0] ?? 0, '');
      const pw = num(p, 'pad_w', pads[0] ?? 0, '');
      const st = numbers(p, 'stride', '')[0] ?? 1;
      const dil = numbers(p, 'dilation', '')[0] ?? 1;
      const g = num(p, 'group', 1, '');
      y =
        l.type === 'Convolution'
          ? convForward(x, w[0].data, w[1]?.data, o, kh, kw, ph, pw, st, st, dil, dil, g)
          : deconvForward(x, w[0].data, w[1]?.data, o, kh, st, ph, g);
    } else if (l.type === 'Pooling') {
      y = poolForward(x, (str(p, 'pool') ?? 'MAX') === 'MAX', num(p, 'kernel_size', 0, ''), num(p, 'stride', 1, ''), num(p, 'pad', 0, ''));
    } else if (l.type === 'ReLU') {
      const slope = num(child(l.msg, 'relu_param'), 'negative_slope', 0, '');
      y = { ...x, d: x.d.map((v) => (v > 0 ? v : v * slope)) };
    } else if (l.type === 'Dropout') {
      y = x;
    } else if (l.type === 'Crop') {
      y = cropForward(x, blobs.get(l.bottoms[1])!, numbers(child(l.msg, 'crop_param'), 'offset', '')[0] ?? 0);
    } else if (l.type === 'Eltwise') {
      const ep = child(l.msg, 'eltwise_param');
      const op = str(ep, 'operation') ?? 'SUM';
      const coeff = numbers(ep, 'coeff', '');
      const xs = l.bottoms.map((b) => blobs.get(b)!);
      const d = new Float32Array(x.d.length);
      for (let i = 0; i < d.length; i++) {
        let v = op === 'PROD' ? 1 : op === 'MAX' ? -Infinity : 0;
        xs.forEach((t, j) => {
          const u = t.d[i];
          v = op === 'PROD' ? v * u : op === 'MAX' ? Math.max(v, u) : v + (coeff[j] ?? 1) * u;
        });
        d[i] = v;
      }
      y = { ...x, d };
    } else if (l.type === 'Concat') {
      const xs = l.bottoms.map((b) => blobs.get(b)!);
      const d = new Float32Array(xs.reduce((s, t) => s + t.d.length, 0));
      let o = 0;
      for (const t of xs) {
        d.set(t.d, o);
        o += t.d.length;
      }
      y = { c: xs.reduce((s, t) => s + t.c, 0), h: x.h, w: x.w, d };
    } else if (l.type === 'Softmax') {
      const d = new Float32Array(x.d.length);
      const plane = x.h * x.w;
      for (let i = 0; i < plane; i++) {
        let m = -Infinity;
        for (let c = 0; c < x.c; c++) m = Math.max(m, x.d[c * plane + i]);
        let s = 0;
        for (let c = 0; c < x.c; c++) s += Math.exp(x.d[c * plane + i] - m);
        for (let c = 0; c < x.c; c++) d[c * plane + i] = Math.exp(x.d[c * plane + i] - m) / s;
      }
      y = { ...x, d };
    } else throw new Error(`reference: no ${l.type}`);
    blobs.set(l.tops[0], y);
    last = y;
  }
  return last;
}

export function parseNet(text: string): CaffeNetDef {
  return parseCaffeNet(text, 'test.prototxt');
}
