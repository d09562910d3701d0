/**
 * Minimal raster drawing for the experiment figures (no plotting dependency): a canvas of 8-bit
 * RGB, rectangles, lines, a 5×7 bitmap font, tick helpers and image grids (figures.ts draws the plots).
 * Pure functions over RgbImage; writing the PNG is the caller's business (writeImage).
 */
import type { RgbImage } from '../data/image.ts';

export type Color = readonly [number, number, number];

export const WHITE: Color = [255, 255, 255];
export const BLACK: Color = [0, 0, 0];
const GRAY: Color = [200, 200, 200];
/** Distinct line colours (Tableau 10). */
export const SERIES_COLORS: readonly Color[] = [
  [31, 119, 180],
  [255, 127, 14],
  [44, 160, 44],
  [214, 39, 40],
  [148, 103, 189],
  [140, 86, 75],
  [227, 119, 194],
  [127, 127, 127],
  [188, 189, 34],
  [23, 190, 207],
];

export function canvas(width: number, height: number, bg: Color = WHITE): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) data.set(bg, i * 3);
  return { width, height, data };
}

function setPixel(img: RgbImage, x: number, y: number, c: Color): void {
  x = Math.round(x);
  y = Math.round(y);
  if (x < 0 || y < 0 || x >= img.width || y >= img.height) return;
  img.data.set(c, (y * img.width + x) * 3);
}

export function fillRect(img: RgbImage, x: number, y: number, w: number, h: number, c: Color): void {
  for (let j = Math.max(0, Math.round(y)); j < Math.min(img.height, Math.round(y + h)); j++) {
    for (let i = Math.max(0, Math.round(x)); i < Math.min(img.width, Math.round(x + w)); i++) img.data.set(c, (j * img.width + i) * 3);
  }
}

/** A line of width `thickness` (square brush), by stepping along the longer axis. */
export function drawLine(img: RgbImage, x0: number, y0: number, x1: number, y1: number, c: Color, thickness = 1): void {
  const steps = Math.max(1, Math.ceil(Math.max(Math.abs(x1 - x0), Math.abs(y1 - y0))));
  const r = (thickness - 1) / 2;
  for (let s = 0; s <= steps; s++) {
    const x = x0 + ((x1 - x0) * s) / steps;
    const y = y0 + ((y1 - y0) * s) / steps;
    if (thickness <= 1) setPixel(img, x, y, c);
    else fillRect(img, x - r, y - r, thickness, thickness, c);
  }
}

// 5×7 glyphs, one 5-bit row per entry (bit 4 = leftmost column).
const GLYPHS: Readonly<Record<string, readonly number[]>> = {
  '0': [0x0e, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0e],
  '1': [0x04, 0x0c, 0x04, 0x04, 0x04, 0x04, 0x0e],
  '2': [0x0e, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1f],
  '3': [0x1f, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0e],
  '4': [0x02, 0x06, 0x0a, 0x12, 0x1f, 0x02, 0x02],
  '5': [0x1f, 0x10, 0x1e, 0x01, 0x01, 0x11, 0x0e],
  '6': [0x06, 0x08, 0x10, 0x1e, 0x11, 0x11, 0x0e],
  '7': [0x1f, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08],
  '8': [0x0e, 0x11, 0x11, 0x0e, 0x11, 0x11, 0x0e],
  '9': [0x0e, 0x11, 0x11, 0x0f, 0x01, 0x02, 0x0c],
  A: [0x0e, 0x11, 0x11, 0x11, 0x1f, 0x11, 0x11],
  B: [0x1e, 0x11, 0x11, 0x1e, 0x11, 0x11, 0x1e],
  C: [0x0e, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0e],
  D: [0x1c, 0x12, 0x11, 0x11, 0x11, 0x12, 0x1c],
  E: [0x1f, 0x10, 0x10, 0x1e, 0x10, 0x10, 0x1f],
  F: [0x1f, 0x10, 0x10, 0x1e, 0x10, 0x10, 0x10],
  G: [0x0e, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0f],
  H: [0x11, 0x11, 0x11, 0x1f, 0x11, 0x11, 0x11],
  I: [0x0e, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0e],
  J: [0x07, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0c],
  K: [0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11],
  L: [0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1f],
  M: [0x11, 0x1b, 0x15, 0x15, 0x11, 0x11, 0x11],
  N: [0x11, 0x11, 0x19, 0x15, 0x13, 0x11, 0x11],
  O: [0x0e, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0e],
  P: [0x1e, 0x11, 0x11, 0x1e, 0x10, 0x10, 0x10],
  Q: [0x0e, 0x11, 0x11, 0x11, 0x15, 0x12, 0x0d],
  R: [0x1e, 0x11, 0x11, 0x1e, 0x14, 0x12, 0x11],
  S: [0x0f, 0x10, 0x10, 0x0e, 0x01, 0x01, 0x1e],
  T: [0x1f, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04],
  U: [0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0e],
  V: [0x11, 0x11, 0x11, 0x11, 0x11, 0x0a, 0x04],
  W: [0x11, 0x11, 0x11, 0x15, 0x15, 0x15, 0x0a],
  X: [0x11, 0x11, 0x0a, 0x04, 0x0a, 0x11, 0x11],
  Y: [0x11, 0x11, 0x11, 0x0a, 0x04, 0x04, 0x04],
  Z: [0x1f, 0x01, 0x02, 0x04, 0x08, 0x10, 0x1f],
  ' ': [0, 0, 0, 0, 0, 0, 0],
  '.': [0, 0, 0, 0, 0, 0x0c, 0x0c],
  ',': [0, 0, 0, 0, 0x0c, 0x04, 0x08],
  '-': [0, 0, 0, 0x1f, 0, 0, 0],
  '+': [0, 0x04, 0x04, 0x1f, 0x04, 0x04, 0],
  _: [0, 0, 0, 0, 0, 0, 0x1f],
  ':': [0, 0x0c, 0x0c, 0, 0x0c, 0x0c, 0],
  ';': [0, 0x0c, 0x0c, 0, 0x0c, 0x04, 0x08],
  '±': [0x04, 0x04, 0x1f, 0x04, 0x04, 0, 0x1f],
  '/': [0, 0x01, 0x02, 0x04, 0x08, 0x10, 0],
  '(': [0x02, 0x04, 0x08, 0x08, 0x08, 0x04, 0x02],
  ')': [0x08, 0x04, 0x02, 0x02, 0x02, 0x04, 0x08],
  '=': [0, 0, 0x1f, 0, 0x1f, 0, 0],
  '%': [0x18, 0x19, 0x02, 0x04, 0x08, 0x13, 0x03],
  '?': [0x0e, 0x11, 0x01, 0x02, 0x04, 0, 0x04],
  // Σ: also how a lower-case σ (the blurred row's label) is drawn, since labels are drawn in capitals.
  Σ: [0x1f, 0x10, 0x08, 0x04, 0x08, 0x10, 0x1f],
};
const GLYPH_ALIASES: Readonly<Record<string, string>> = { '×': 'X', '²': '2', '→': '-', '—': '-', '–': '-', '·': '.' };

const CHAR_W = 6;

/** Width in pixels of `text` at `scale`. */
export function textWidth(text: string, scale = 1): number {
  return text.length * CHAR_W * scale;
}

/** Whether `drawText` has a glyph for every character of `text` (others are drawn as '?'). */
export function canDraw(text: string): boolean {
  return [...text].every((ch0) => GLYPHS[GLYPH_ALIASES[ch0] ?? ch0.toUpperCase()] !== undefined);
}

/** Draw `text` with its top-left corner at (x, y). Lowercase is drawn as uppercase. */
export function drawText(img: RgbImage, text: string, x: number, y: number, c: Color = BLACK, scale = 1): void {
  let cx = x;
  for (const ch0 of text) {
    const ch = GLYPH_ALIASES[ch0] ?? ch0.toUpperCase();
    const g = GLYPHS[ch] ?? GLYPHS['?'];
    for (let row = 0; row < 7; row++) {
      for (let col = 0; col < 5; col++) {
        if (g[row] & (1 << (4 - col))) fillRect(img, cx + col * scale, y + row * scale, scale, scale, c);
      }
    }
    cx += CHAR_W * scale;
  }
}

/** Copy `src` into `dst` with its top-left corner at (x, y). */
export function blit(dst: RgbImage, src: RgbImage, x: number, y: number): void {
  for (let j = 0; j < src.height; j++) {
    const ty = y + j;
    if (ty < 0 || ty >= dst.height) continue;
    for (let i = 0; i < src.width; i++) {
      const tx = x + i;
      if (tx < 0 || tx >= dst.width) continue;
      const s = (j * src.width + i) * 3;
      dst.data.set(src.data.subarray(s, s + 3), (ty * dst.width + tx) * 3);
    }
  }
}

/** About `count` round tick values covering [lo, hi] (1, 2, 5 × 10^k steps). */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const ticks: number[] = [];
  for (let t = Math.ceil(lo / step - 1e-9) * step; t <= hi + step * 1e-9; t += step) ticks.push(Number(t.toPrecision(12)));
  return ticks;
}

/** Tick text with as many decimals as the tick step needs (0.3605 and 0.3610 must not both read 0.36). */
export function tickLabel(v: number, step: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-4) return v.toExponential(1);
  const decimals = Math.max(0, Math.min(8, -Math.floor(Math.log10(step) + 1e-9)));
  return v.toFixed(decimals);
}

/**
 * A labelled image grid: one row per entry, its label at the left, its images in columns
 * (all images `cell`×`cell`; a missing image leaves a gray cell). The label column is as wide as the
 * longest label unless `labelWidth` says otherwise (a narrower one cuts labels).
 */
export function labelledGrid(
  rows: readonly { label: string; images: readonly (RgbImage | null)[] }[],
  cell: number,
  labelWidth = Math.max(132, 8 + CHAR_W * Math.max(0, ...rows.map((r) => r.label.length))),
): RgbImage {
  const cols = Math.max(1, ...rows.map((r) => r.images.length));
  const gap = 2;
  const out = canvas(labelWidth + cols * (cell + gap), rows.length * (cell + gap));
  rows.forEach((r, j) => {
    const y = j * (cell + gap);
    const maxChars = Math.floor((labelWidth - 8) / CHAR_W);
    drawText(out, r.label.slice(0, maxChars), 4, y + cell / 2 - 4);
    for (let i = 0; i < cols; i++) {
      const img = r.images[i];
      const x = labelWidth + i * (cell + gap);
      if (img) blit(out, img, x, y);
      else fillRect(out, x, y, cell, cell, GRAY);
    }
  });
  return out;
}
