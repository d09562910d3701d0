import { describe, expect, it } from 'vitest';
import { canDraw } from '../../src/experiments/draw.ts';
import {
  type Figure,
  figurePng,
  figureSvg,
  lineFor,
  meanOverSeeds,
  movingAverage,
  panelPng,
  smoothingWindow,
  variantColors,
  curvesNote,
} from '../../src/experiments/figures.ts';

const count = (img: { data: Uint8Array }, c: readonly number[]): number => {
  let n = 0;
  for (let i = 0; i < img.data.length; i += 3) if (img.data[i] === c[0] && img.data[i + 1] === c[1] && img.data[i + 2] === c[2]) n++;
  return n;
};

describe('training-curve figures', () => {
  it('gives each variant one colour, by its place in the experiment, whatever panel it is drawn in', () => {
    const colors = variantColors(['rf1', 'rf16', 'rf70']);
    expect(colors.get('rf16')).toEqual([255, 127, 14]);
    expect(variantColors(['rf1', 'rf16', 'rf70']).get('rf70')).toEqual(colors.get('rf70'));
  });

  it('smooths with a trailing moving average (hand-computed)', () => {
    const pts = [
      [1, 2],
      [2, 4],
      [3, 6],
      [4, 10],
    ] as const;
    expect(movingAverage(pts, 2)).toEqual([
      [1, 2],
      [2, 3],
      [3, 5],
      [4, 8],
    ]);
    expect(movingAverage(pts, 1)).toEqual(pts.map((p) => [...p]));
    expect(smoothingWindow(4000)).toBe(100);
    expect(smoothingWindow(10)).toBe(1);
  });

  it('averages seeds at the steps all of them reached, with a ±1 s.d. band', () => {
    const r = meanOverSeeds([
      {
        seed: 1,
        points: [
          [1, 1],
          [2, 3],
          [3, 5],
        ],
      },
      {
        seed: 2,
        points: [
          [1, 3],
          [2, 5],
        ],
      },
    ]);
    expect(r.points).toEqual([
      [1, 2],
      [2, 4],
    ]);
    // Sample s.d. of {1, 3} is √2.
    expect(r.band![0][1]).toBeCloseTo(2 - Math.SQRT2, 12);
    expect(r.band![1][2]).toBeCloseTo(4 + Math.SQRT2, 12);
    expect(meanOverSeeds([{ seed: 1, points: [[1, 1]] }]).band).toBeNull();
    expect(lineFor('x', [0, 0, 0], [{ seed: 1, points: [] }], true)).toBeNull();
  });

  const figure: Figure = {
    title: 'demo <&>',
    panels: [
      {
        title: 'G L1',
        xLabel: 'training step',
        yLabel: 'loss',
        lines: [
          lineFor(
            '1×1',
            [31, 119, 180],
            [
              {
                seed: 1,
                points: [
                  [0, 1],
                  [50, 0.5],
                  [100, 0.25],
                ],
              },
              {
                seed: 2,
                points: [
                  [0, 1.2],
                  [50, 0.7],
                  [100, 0.45],
                ],
              },
            ],
            false,
          )!,
          lineFor(
            '70×70',
            [255, 127, 14],
            [
              {
                seed: 1,
                points: [
                  [0, 0.9],
                  [50, 0.4],
                  [100, 0.2],
                ],
              },
            ],
            false,
          )!,
        ],
      },
    ],
    legend: [
      { name: '1×1', color: [31, 119, 180], seeds: 2 },
      { name: '70×70', color: [255, 127, 14], seeds: 1 },
    ],
    note: 'line = mean over seeds, band = ±1 s.d. over seeds',
  };

  it('draws lines in their variant colours and the seed band as a tint, with the legend below the plots', () => {
    const panel = panelPng(figure.panels[0], 400, 300);
    expect(count(panel, [31, 119, 180])).toBeGreaterThan(200);
    expect(count(panel, [255, 127, 14])).toBeGreaterThan(200);
    // The band of the two-seed variant: its colour tinted 75% towards white.
    expect(count(panel, [199, 221, 236])).toBeGreaterThan(500);
    const whole = figurePng(figure, 400, 300);
    expect(whole.height).toBeGreaterThan(300);
    // The legend sits under the panel: its swatch colours appear below y = 300.
    const below = { data: whole.data.subarray(300 * whole.width * 3) };
    expect(count(below, [255, 127, 14])).toBeGreaterThan(10);
  });

  it('writes the same figure as SVG: a polyline per variant, a band polygon, escaped text', () => {
    const svg = figureSvg(figure, 400, 300);
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.match(/<polyline /g)).toHaveLength(2);
    expect(svg.match(/<polygon /g)).toHaveLength(1);
    expect(svg).toContain('stroke="rgb(255,127,14)"');
    expect(svg).toContain('demo &lt;&amp;&gt;');
    expect(svg).toContain('1×1 (2 seeds)');
  });
  it('draws its captions with real glyphs: no character falls back to ?', () => {
    expect(canDraw(curvesNote(true))).toBe(true);
    expect(canDraw(curvesNote(false))).toBe(true);
    expect(canDraw('1×1 → 70×70; ±0.02')).toBe(true);
    expect(canDraw('€')).toBe(false);
  });
});
