/**
 * Training-curve figures of an experiment: one panel per loss, one colour per variant in every panel
 * (fixed by the variant's place in the experiment file), per-step curves smoothed by a trailing moving
 * average, every seed used (the line is the mean over seeds, the band ±1 standard deviation where
 * there are two or more), and the legend outside the plots. Pure: curves in, a figure description
 * out, rendered to PNG pixels (draw.ts) or SVG text here.
 */
import type { RgbImage } from '../data/image.ts';
import { BLACK, type Color, canvas, drawLine, drawText, fillRect, niceTicks, SERIES_COLORS, textWidth, tickLabel, blit } from './draw.ts';

export type Point = readonly [number, number];

/** One seed's raw curve of one loss. */
export interface SeedCurve {
  seed: number;
  points: readonly Point[];
}

export interface FigureLine {
  name: string;
  color: Color;
  /** The mean over seeds, smoothed. */
  points: readonly Point[];
  /** [x, lo, hi]: mean ± one standard deviation over seeds (absent with one seed). */
  band: readonly (readonly [number, number, number])[] | null;
  seeds: number;
}

export interface FigurePanel {
  title: string;
  xLabel: string;
  yLabel: string;
  lines: readonly FigureLine[];
}

export interface Figure {
  title: string;
  panels: readonly FigurePanel[];
  /** Every variant with its colour, also those without a curve in some panel. */
  legend: readonly { name: string; color: Color; seeds: number }[];
  note: string;
}

/** The colour of each variant, by its order in the experiment: the same in every panel and figure. */
export function variantColors(variants: readonly string[]): Map<string, Color> {
  return new Map(variants.map((v, i) => [v, SERIES_COLORS[i % SERIES_COLORS.length]]));
}

/** Trailing moving average over `window` points (the first points average what exists so far). */
export function movingAverage(points: readonly Point[], window: number): Point[] {
  const w = Math.max(1, Math.floor(window));
  const out: Point[] = [];
  let sum = 0;
  for (let i = 0; i < points.length; i++) {
    sum += points[i][1];
    if (i >= w) sum -= points[i - w][1];
    out.push([points[i][0], sum / Math.min(i + 1, w)]);
  }
  return out;
}

/** A window that keeps about 40 independent stretches along the curve: smooth, yet trends stay visible. */
export function smoothingWindow(length: number): number {
  return Math.max(1, Math.round(length / 40));
}

/**
 * Mean and ±1 sample standard deviation over seeds at the x values every seed has (seeds of one
 * variant train the same number of steps; a seed still running is cut to the common part).
 */
export function meanOverSeeds(curves: readonly SeedCurve[]): { points: Point[]; band: [number, number, number][] | null } {
  if (curves.length === 0) return { points: [], band: null };
  const maps = curves.map((c) => new Map(c.points.map(([x, y]) => [x, y])));
  const xs = curves[0].points.map(([x]) => x).filter((x) => maps.every((m) => m.has(x)));
  const points: Point[] = [];
  const band: [number, number, number][] = [];
  for (const x of xs) {
    const ys = maps.map((m) => m.get(x)!);
    const mean = ys.reduce((a, b) => a + b, 0) / ys.length;
    points.push([x, mean]);
    if (ys.length > 1) {
      const sd = Math.sqrt(ys.reduce((a, y) => a + (y - mean) ** 2, 0) / (ys.length - 1));
      band.push([x, mean - sd, mean + sd]);
    }
  }
  return { points, band: curves.length > 1 ? band : null };
}

/** Build one panel's line for a variant: smooth each seed, then take the mean and band. */
export function lineFor(name: string, color: Color, curves: readonly SeedCurve[], smooth: boolean): FigureLine | null {
  const usable = curves.filter((c) => c.points.length > 0);
  if (usable.length === 0) return null;
  const smoothed = usable.map((c) => ({ seed: c.seed, points: smooth ? movingAverage(c.points, smoothingWindow(c.points.length)) : c.points }));
  const { points, band } = meanOverSeeds(smoothed);
  return { name, color, points, band, seeds: usable.length };
}

interface Frame {
  left: number;
  top: number;
  width: number;
  height: number;
  x0: number;
  x1: number;
  y0: number;
  y1: number;
  xTicks: number[];
  yTicks: number[];
}

/** Axis ranges and ticks of a panel drawn in a `width`×`height` box (shared by the PNG and SVG renderers). */
function frameOf(p: FigurePanel, width: number, height: number): Frame {
  const xs = p.lines.flatMap((l) => l.points.map(([x]) => x));
  const ys = p.lines.flatMap((l) => [...l.points.map(([, y]) => y), ...(l.band ?? []).flatMap(([, lo, hi]) => [lo, hi])]).filter(Number.isFinite);
  let [x0, x1] = xs.length ? [Math.min(...xs), Math.max(...xs)] : [0, 1];
  let [y0, y1] = ys.length ? [Math.min(...ys), Math.max(...ys)] : [0, 1];
  if (x1 === x0) [x0, x1] = [x0 - 1, x1 + 1];
  if (y1 === y0) [y0, y1] = [y0 - Math.abs(y0 || 1) * 0.1, y1 + Math.abs(y1 || 1) * 0.1];
  const pad = (y1 - y0) * 0.05;
  y0 -= pad;
  y1 += pad;
  const left = 60;
  const top = 24;
  return {
    left,
    top,
    width: width - left - 14,
    height: height - top - 40,
    x0,
    x1,
    y0,
    y1,
    xTicks: niceTicks(x0, x1).filter((t) => Number.isInteger(t) && t >= x0 && t <= x1),
    yTicks: niceTicks(y0, y1).filter((t) => t >= y0 && t <= y1),
  };
}

const sxOf = (f: Frame) => (x: number) => f.left + ((x - f.x0) / (f.x1 - f.x0)) * f.width;
const syOf = (f: Frame) => (y: number) => f.top + f.height - ((y - f.y0) / (f.y1 - f.y0)) * f.height;
const stepOf = (t: readonly number[]): number => (t.length > 1 ? t[1] - t[0] : 1);

/** A light tint of a colour, for bands. */
function tint(c: Color, amount = 0.75): Color {
  return [0, 1, 2].map((i) => Math.round(c[i] + (255 - c[i]) * amount)) as unknown as Color;
}

export function panelPng(p: FigurePanel, width: number, height: number): RgbImage {
  const img = canvas(width, height);
  const f = frameOf(p, width, height);
  const sx = sxOf(f);
  const sy = syOf(f);
  drawText(img, p.title, f.left, 6);
  for (const t of f.yTicks) {
    drawLine(img, f.left, sy(t), f.left + f.width, sy(t), [235, 235, 235]);
    const label = tickLabel(t, stepOf(f.yTicks));
    drawText(img, label, f.left - 6 - textWidth(label), sy(t) - 3);
  }
  for (const t of f.xTicks) {
    drawLine(img, sx(t), f.top + f.height, sx(t), f.top + f.height + 4, BLACK);
    const label = tickLabel(t, Math.max(1, stepOf(f.xTicks)));
    drawText(img, label, sx(t) - textWidth(label) / 2, f.top + f.height + 7);
  }
  // Bands first (under every line), each a vertical span per pixel column between lo and hi.
  for (const l of p.lines) {
    if (!l.band) continue;
    const light = tint(l.color);
    for (let k = 1; k < l.band.length; k++) {
      const [xa, loa, hia] = l.band[k - 1];
      const [xb, lob, hib] = l.band[k];
      for (let px = Math.round(sx(xa)); px <= Math.round(sx(xb)); px++) {
        const t = sx(xb) === sx(xa) ? 0 : (px - sx(xa)) / (sx(xb) - sx(xa));
        const hi = sy(hia + (hib - hia) * t);
        const lo = sy(loa + (lob - loa) * t);
        fillRect(img, px, hi, 1, lo - hi + 1, light);
      }
    }
  }
  for (const l of p.lines) {
    for (let k = 1; k < l.points.length; k++) drawLine(img, sx(l.points[k - 1][0]), sy(l.points[k - 1][1]), sx(l.points[k][0]), sy(l.points[k][1]), l.color, 2);
  }
  const { left, top, width: w, height: h } = f;
  drawLine(img, left, top, left, top + h, BLACK);
  drawLine(img, left, top + h, left + w, top + h, BLACK);
  drawLine(img, left + w, top, left + w, top + h, BLACK);
  drawLine(img, left, top, left + w, top, BLACK);
  drawText(img, p.xLabel, left + w / 2 - textWidth(p.xLabel) / 2, height - 14);
  drawText(img, p.yLabel, 4, top - 14);
  return img;
}

const LEGEND_ROW = 14;

function legendPng(fig: Figure, width: number): RgbImage {
  const entries = fig.legend.map((e) => ({ ...e, text: `${e.name} (${e.seeds} seed${e.seeds === 1 ? '' : 's'})` }));
  const colW = Math.max(...entries.map((e) => textWidth(e.text)), 40) + 40;
  const perRow = Math.max(1, Math.floor((width - 16) / colW));
  const rows = Math.ceil(entries.length / perRow);
  const img = canvas(width, 10 + rows * LEGEND_ROW + LEGEND_ROW + 6);
  entries.forEach((e, i) => {
    const x = 8 + (i % perRow) * colW;
    const y = 8 + Math.floor(i / perRow) * LEGEND_ROW;
    drawLine(img, x, y + 3, x + 20, y + 3, e.color, 3);
    drawText(img, e.text, x + 26, y);
  });
  drawText(img, fig.note, 8, 8 + rows * LEGEND_ROW + 4);
  return img;
}

/** The whole figure as pixels: panels two per row, the legend and note below them. */
export function figurePng(fig: Figure, panelWidth = 560, panelHeight = 340, columns = 2): RgbImage {
  const panels = fig.panels.map((p) => panelPng(p, panelWidth, panelHeight));
  const cols = Math.min(columns, Math.max(1, panels.length));
  const rows = Math.ceil(panels.length / cols);
  const legend = legendPng(fig, cols * panelWidth);
  const out = canvas(cols * panelWidth, rows * panelHeight + legend.height);
  panels.forEach((p, i) => blit(out, p, (i % cols) * panelWidth, Math.floor(i / cols) * panelHeight));
  blit(out, legend, 0, rows * panelHeight);
  return out;
}

export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}

const rgb = (c: Color): string => `rgb(${c[0]},${c[1]},${c[2]})`;
const num = (v: number): string => (Math.round(v * 10) / 10).toString();

function panelSvg(p: FigurePanel, width: number, height: number, ox: number, oy: number): string {
  const f = frameOf(p, width, height);
  const sx = (x: number): number => ox + sxOf(f)(x);
  const sy = (y: number): number => oy + syOf(f)(y);
  const parts: string[] = [];
  parts.push(`<text x="${num(ox + f.left)}" y="${num(oy + 16)}" font-weight="bold">${escapeXml(p.title)}</text>`);
  for (const t of f.yTicks) {
    parts.push(`<line x1="${num(ox + f.left)}" x2="${num(ox + f.left + f.width)}" y1="${num(sy(t))}" y2="${num(sy(t))}" stroke="#ebebeb"/>`);
    parts.push(`<text x="${num(ox + f.left - 6)}" y="${num(sy(t) + 4)}" text-anchor="end">${tickLabel(t, stepOf(f.yTicks))}</text>`);
  }
  for (const t of f.xTicks)
    parts.push(`<text x="${num(sx(t))}" y="${num(oy + f.top + f.height + 16)}" text-anchor="middle">${tickLabel(t, Math.max(1, stepOf(f.xTicks)))}</text>`);
  for (const l of p.lines) {
    if (!l.band || l.band.length === 0) continue;
    const upper = l.band.map(([x, , hi]) => `${num(sx(x))},${num(sy(hi))}`);
    const lower = [...l.band].reverse().map(([x, lo]) => `${num(sx(x))},${num(sy(lo))}`);
    parts.push(`<polygon points="${[...upper, ...lower].join(' ')}" fill="${rgb(l.color)}" fill-opacity="0.2" stroke="none"/>`);
  }
  for (const l of p.lines) {
    const pts = l.points.map(([x, y]) => `${num(sx(x))},${num(sy(y))}`).join(' ');
    parts.push(`<polyline points="${pts}" fill="none" stroke="${rgb(l.color)}" stroke-width="2"><title>${escapeXml(l.name)}</title></polyline>`);
  }
  parts.push(`<rect x="${num(ox + f.left)}" y="${num(oy + f.top)}" width="${num(f.width)}" height="${num(f.height)}" fill="none" stroke="black"/>`);
  parts.push(`<text x="${num(ox + f.left + f.width / 2)}" y="${num(oy + height - 6)}" text-anchor="middle">${escapeXml(p.xLabel)}</text>`);
  parts.push(`<text x="${num(ox + 4)}" y="${num(oy + f.top - 4)}">${escapeXml(p.yLabel)}</text>`);
  return parts.join('\n');
}

/** The same figure as SVG (vector, selectable text): panels in a grid, legend and note below. */
export function figureSvg(fig: Figure, panelWidth = 560, panelHeight = 340, columns = 2): string {
  const cols = Math.min(columns, Math.max(1, fig.panels.length));
  const rows = Math.ceil(fig.panels.length / cols);
  const legendTop = rows * panelHeight + 10;
  const perRow = Math.max(1, Math.floor((cols * panelWidth) / 220));
  const legendRows = Math.ceil(fig.legend.length / perRow);
  const height = legendTop + legendRows * 18 + 30;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${cols * panelWidth}" height="${height}" font-family="sans-serif" font-size="11">`,
    `<title>${escapeXml(fig.title)}</title>`,
    `<rect width="100%" height="100%" fill="white"/>`,
  ];
  fig.panels.forEach((p, i) => parts.push(panelSvg(p, panelWidth, panelHeight, (i % cols) * panelWidth, Math.floor(i / cols) * panelHeight)));
  fig.legend.forEach((e, i) => {
    const x = 10 + (i % perRow) * 220;
    const y = legendTop + Math.floor(i / perRow) * 18;
    parts.push(`<line x1="${x}" x2="${x + 22}" y1="${y + 6}" y2="${y + 6}" stroke="${rgb(e.color)}" stroke-width="3"/>`);
    parts.push(`<text x="${x + 28}" y="${y + 10}">${escapeXml(`${e.name} (${e.seeds} seed${e.seeds === 1 ? '' : 's'})`)}</text>`);
  });
  parts.push(`<text x="10" y="${legendTop + legendRows * 18 + 16}">${escapeXml(fig.note)}</text>`);
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

/** The caption under the training-curve panels. Every character has a glyph in the PNG font (draw.ts). */
export function curvesNote(perStep: boolean): string {
  return `${perStep ? 'per-step losses, trailing moving average; ' : 'per-epoch means; '}line = mean over seeds, band = ±1 s.d. over seeds`;
}
