/**
 * sRGB → CIE L*a*b* (D65), with the constants of the torch-compatible conversion in
 * affinelayer/pix2pix-tensorflow (docs/reference.md#colour): sRGB linearisation with threshold 0.04045, the
 * sRGB→XYZ matrix as used there (and by OpenCV/scikit-image), reference white
 * (0.950456, 1, 1.088754), and f(t) = ∛t above ε = (6/29)³, t/(3·(6/29)²) + 4/29 below.
 */

const D65_WHITE: readonly [number, number, number] = [0.950456, 1, 1.088754];

/** Rows give X, Y, Z from linear R, G, B. */
const SRGB_TO_XYZ: readonly (readonly [number, number, number])[] = [
  [0.412453, 0.35758, 0.180423],
  [0.212671, 0.71516, 0.072169],
  [0.019334, 0.119193, 0.950227],
];

const DELTA = 6 / 29;
const EPSILON = DELTA * DELTA * DELTA;

/** sRGB component in [0, 1] → linear light. */
export function srgbToLinear(c: number): number {
  return c <= 0.04045 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
}

function labF(t: number): number {
  return t > EPSILON ? Math.cbrt(t) : t / (3 * DELTA * DELTA) + 4 / 29;
}

/** Linear values of the 256 byte levels: the conversion of images then costs no pow(). */
const LINEAR_OF_BYTE: Float64Array = (() => {
  const t = new Float64Array(256);
  for (let i = 0; i < 256; i++) t[i] = srgbToLinear(i / 255);
  return t;
})();

const [MX, MY, MZ] = SRGB_TO_XYZ as [readonly [number, number, number], readonly [number, number, number], readonly [number, number, number]];
const XR = MX[0] / D65_WHITE[0],
  XG = MX[1] / D65_WHITE[0],
  XB = MX[2] / D65_WHITE[0];
const YR = MY[0] / D65_WHITE[1],
  YG = MY[1] / D65_WHITE[1],
  YB = MY[2] / D65_WHITE[1];
const ZR = MZ[0] / D65_WHITE[2],
  ZG = MZ[1] / D65_WHITE[2],
  ZB = MZ[2] / D65_WHITE[2];

/** One 8-bit sRGB colour → [L, a, b] with L in [0, 100]. */
export function srgbToLab(r: number, g: number, b: number): [number, number, number] {
  const out = new Float64Array(3);
  labOfBytes(r, g, b, out, 0);
  return [out[0], out[1], out[2]];
}

/** Writes L, a, b of one byte triple to out[o..o+2]. */
export function labOfBytes(r: number, g: number, b: number, out: Float64Array | Float32Array, o: number): void {
  const lr = LINEAR_OF_BYTE[r],
    lg = LINEAR_OF_BYTE[g],
    lb = LINEAR_OF_BYTE[b];
  const fx = labF(XR * lr + XG * lg + XB * lb);
  const fy = labF(YR * lr + YG * lg + YB * lb);
  const fz = labF(ZR * lr + ZG * lg + ZB * lb);
  out[o] = 116 * fy - 16;
  out[o + 1] = 500 * (fx - fy);
  out[o + 2] = 200 * (fy - fz);
}

/** Interleaved 8-bit RGB → interleaved L, a, b (Float32, 3 values per pixel). */
export function rgbImageToLab(rgb: Uint8Array): Float32Array {
  if (rgb.length % 3 !== 0) throw new Error(`rgbImageToLab: ${rgb.length} bytes is not a whole number of RGB pixels`);
  const out = new Float32Array(rgb.length);
  for (let i = 0; i < rgb.length; i += 3) labOfBytes(rgb[i], rgb[i + 1], rgb[i + 2], out, i);
  return out;
}
