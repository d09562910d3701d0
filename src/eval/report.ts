/** Text tables and CSV for evaluation results (pure: strings in, strings out). */
import Papa from 'papaparse';
import { LAB_CHANNELS, type LabHistograms, type LabIntersections } from './color.ts';
import type { FcnScores } from './scores.ts';

const f4 = (x: number) => x.toFixed(4);

/** The three scores, as the reference's evaluation_results.txt names them, then a per-class table. */
export function formatScores(s: FcnScores, classNames: readonly string[], frames: number, droppedFrames = 0): string {
  const width = Math.max(5, ...classNames.map((n) => n.length));
  const lines = [
    `Frames: ${frames}${droppedFrames > 0 ? ` (+${droppedFrames} dropped by the reference fast_hist quirk)` : ''}`,
    `Mean pixel accuracy: ${f4(s.pixelAcc)}`,
    `Mean class accuracy: ${f4(s.meanClassAcc)}`,
    `Mean class IoU:      ${f4(s.meanClassIoU)}`,
    `Over the ${s.presentClasses} classes present in the ground truth: class accuracy ${f4(s.presentClassAcc)}, class IoU ${f4(s.presentClassIoU)}`,
    '',
    `${'class'.padEnd(width)}  trainId  accuracy     IoU   GT pixels`,
  ];
  s.classAcc.forEach((acc, c) => {
    const name = classNames[c] ?? `class ${c}`;
    const absent = s.classPixels[c] === 0 ? '  (absent from ground truth: scores 0, still averaged)' : '';
    lines.push(
      `${name.padEnd(width)}  ${String(c).padStart(7)}  ${f4(acc).padStart(8)}  ${f4(s.classIoU[c]).padStart(6)}  ${String(s.classPixels[c]).padStart(10)}${absent}`,
    );
  });
  return lines.join('\n');
}

/** One row per class, then the means and the per-pixel accuracy (class column names them). */
export function scoresCsv(s: FcnScores, classNames: readonly string[]): string {
  const rows: (string | number)[][] = s.classAcc.map((acc, c) => [classNames[c] ?? `class ${c}`, c, s.classPixels[c], acc, s.classIoU[c]]);
  rows.push(['mean', '', '', s.meanClassAcc, s.meanClassIoU]);
  rows.push(['per-pixel', '', '', s.pixelAcc, '']);
  return Papa.unparse({ fields: ['class', 'trainId', 'gtPixels', 'accuracy', 'iou'], data: rows }) + '\n';
}

export function formatColorResult(hi: LabIntersections, generated: LabHistograms, real: LabHistograms): string {
  const r = generated.ranges;
  return [
    `Generated: ${generated.images} images (${generated.pixels} pixels); real: ${real.images} images (${real.pixels} pixels)`,
    `Bins: ${generated.bins} per channel over L [${r.L.join(', ')}], a [${r.a.join(', ')}], b [${r.b.join(', ')}] (our choice; the paper does not publish its bins)`,
    `Histogram intersection  L: ${f4(hi.L)}  a: ${f4(hi.a)}  b: ${f4(hi.b)}`,
  ].join('\n');
}

/**
 * Three rows with the intersections (bin = 'intersection'), then per channel and bin the two
 * normalised histograms, for Figure 7-style plots.
 */
export function colorCsv(hi: LabIntersections, generated: LabHistograms, real: LabHistograms): string {
  const rows: (string | number)[][] = [];
  for (const ch of LAB_CHANNELS) rows.push([ch, 'intersection', '', '', '', '', hi[ch]]);
  for (const ch of LAB_CHANNELS) {
    const [lo, hiEdge] = generated.ranges[ch];
    const step = (hiEdge - lo) / generated.bins;
    const g = generated[ch];
    const rr = real[ch];
    const gs = g.reduce((a, b) => a + b, 0);
    const rs = rr.reduce((a, b) => a + b, 0);
    for (let i = 0; i < generated.bins; i++) rows.push([ch, i, lo + i * step, lo + (i + 1) * step, gs > 0 ? g[i] / gs : 0, rs > 0 ? rr[i] / rs : 0, '']);
  }
  return Papa.unparse({ fields: ['channel', 'bin', 'binLow', 'binHigh', 'generated', 'real', 'intersection'], data: rows }) + '\n';
}

/** The scores as one JSON-ready object (`eval fcn-score --json`, `eval labels --json`). */
export function scoresJson(s: FcnScores, classNames: readonly string[], frames: number, droppedFrames = 0) {
  return {
    frames,
    droppedFrames,
    pixelAcc: s.pixelAcc,
    meanClassAcc: s.meanClassAcc,
    meanClassIoU: s.meanClassIoU,
    presentClasses: s.presentClasses,
    presentClassAcc: s.presentClassAcc,
    presentClassIoU: s.presentClassIoU,
    classes: s.classAcc.map((acc, c) => ({
      class: classNames[c] ?? `class ${c}`,
      trainId: c,
      gtPixels: s.classPixels[c],
      accuracy: acc,
      iou: s.classIoU[c],
    })),
  };
}

/** The colour statistics as one JSON-ready object (`eval color --json`): intersections and normalised histograms. */
export function colorJson(hi: LabIntersections, generated: LabHistograms, real: LabHistograms) {
  const normalised = (h: Float64Array): number[] => {
    const sum = h.reduce((a, b) => a + b, 0);
    return Array.from(h, (x) => (sum > 0 ? x / sum : 0));
  };
  const hist = (h: LabHistograms) => ({ images: h.images, pixels: h.pixels, L: normalised(h.L), a: normalised(h.a), b: normalised(h.b) });
  return { intersections: { L: hi.L, a: hi.a, b: hi.b }, bins: generated.bins, ranges: generated.ranges, generated: hist(generated), real: hist(real) };
}
