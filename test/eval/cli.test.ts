import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import yargs from 'yargs';
import type { CommandModule } from 'yargs';
import { buildEvalCommand } from '../../src/cli/commands/eval.ts';
import { writeImage } from '../../src/data/image.ts';
import { captureStdout, runCli } from '../helpers/capture.ts';
import { writeFcnScoreCase } from './tiny-segmenter.ts';

/** Run `pix2pix eval …` in-process; returns what it printed on stdout. */
function runEval(args: string[], extra: CommandModule<object, object>[] = []): Promise<string> {
  return captureStdout(() =>
    yargs(['eval', ...args])
      .command(buildEvalCommand(extra))
      .strict()
      .fail((msg, err) => {
        throw err ?? new Error(msg);
      })
      .parseAsync(),
  );
}

afterEach(() => vi.restoreAllMocks());

describe('pix2pix eval', () => {
  it('fcn-score prints the three scores and a per-class table, and writes the CSV', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'cli-eval-'));
    const { images, labels, segmenter: seg } = await writeFcnScoreCase(root, 'aachen');
    const csv = path.join(root, 'scores.csv');
    const out = await runEval(['fcn-score', '--segmenter', seg, '--images', images, '--labels', labels, '--csv', csv, '--quiet']);
    // pixels: road→road, road→sidewalk
    expect(out).toContain('Mean pixel accuracy: 0.5000');
    expect(out).toMatch(/road\s+0\s+0\.5000\s+0\.5000\s+2/);
    const lines = readFileSync(csv, 'utf8').trim().split(/\r?\n/);
    expect(lines[0]).toBe('class,trainId,gtPixels,accuracy,iou');
    const road = lines[1].split(',');
    expect(road.slice(0, 3)).toEqual(['road', '0', '2']);
    // 1 / (2 + 1e-12): the reference's epsilon shows in full precision
    expect(Number(road[3])).toBeCloseTo(0.5, 10);
    expect(Number(road[4])).toBeCloseTo(0.5, 10);
    expect(lines.at(-1)!.startsWith('per-pixel,,,0.4999')).toBe(true);
  });

  it('color prints the L/a/b intersections', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'cli-eval-'));
    await writeImage(path.join(root, 'g', 'x.png'), { width: 1, height: 1, data: Uint8Array.from([255, 255, 255]) });
    await writeImage(path.join(root, 'r', 'x.png'), { width: 1, height: 1, data: Uint8Array.from([255, 255, 255]) });
    const out = await runEval(['color', '--generated', path.join(root, 'g'), '--real', path.join(root, 'r'), '--quiet']);
    expect(out).toContain('Histogram intersection  L: 1.0000  a: 1.0000  b: 1.0000');
    expect(out).toContain('the paper does not publish its bins');
  });

  it('--json prints one JSON object: fcn-score and labels give the scores and the per-class table', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'cli-eval-'));
    const { images, labels: gt, segmenter, id } = await writeFcnScoreCase(root);
    const fcn = JSON.parse(await runEval(['fcn-score', '--segmenter', segmenter, '--images', images, '--labels', gt, '--quiet', '--json']));
    // pixels: road→road, road→sidewalk (as in the text report above)
    expect(fcn.frames).toBe(1);
    expect(fcn.pixelAcc).toBeCloseTo(0.5, 9);
    expect(fcn.classes).toHaveLength(19);
    expect(fcn.classes[0]).toEqual({ class: 'road', trainId: 0, gtPixels: 2, accuracy: expect.closeTo(0.5, 9), iou: expect.closeTo(0.5, 9) });
    expect(fcn.meanClassAcc).toBeCloseTo(0.5 / 19, 9);

    // Colour label maps: road's colour (128,64,128) on one pixel, sidewalk's (244,35,232) on the other; both gt road.
    await writeImage(path.join(root, 'pred', `${id}.png`), { width: 2, height: 1, data: Uint8Array.from([128, 64, 128, 244, 35, 232]) });
    const labels = JSON.parse(await runEval(['labels', '--pred', path.join(root, 'pred'), '--labels', gt, '--quiet', '--json']));
    expect(labels.pixelAcc).toBeCloseTo(0.5, 9);
    expect(labels.classes[1]).toMatchObject({ class: 'sidewalk', gtPixels: 0, accuracy: 0, iou: 0 });
  });

  it('--json prints one JSON object: color gives the intersections and normalised histograms', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'cli-eval-'));
    await writeImage(path.join(root, 'g', 'x.png'), { width: 2, height: 1, data: Uint8Array.from([255, 255, 255, 0, 0, 0]) });
    await writeImage(path.join(root, 'r', 'x.png'), { width: 1, height: 1, data: Uint8Array.from([255, 255, 255]) });
    const out = await runEval(['color', '--generated', path.join(root, 'g'), '--real', path.join(root, 'r'), '--bins', '4', '--quiet', '--json']);
    expect(out.trim().split('\n')).toHaveLength(1);
    const r = JSON.parse(out);
    // Half the generated pixels are white (L = 100, top bin), half black (L = 0, bottom bin); all real ones white.
    expect(r.bins).toBe(4);
    expect(r.generated.L).toEqual([0.5, 0, 0, 0.5]);
    expect(r.real.L).toEqual([0, 0, 0, 1]);
    expect(r.intersections.L).toBeCloseTo(0.5, 9);
    expect(r.generated.pixels).toBe(2);
  });

  it('rf --json prints the rows of the receptive-field table', async () => {
    const { evalRfCommand } = await import('../../src/cli/commands/rf.ts');
    const r = JSON.parse(await runEval(['rf', '--n_layers_D', '0', '3', '--json'], [evalRfCommand]));
    expect(r.size).toBe(256);
    expect(r.rows.map((row: { nLayers: number; receptiveField: number; outputSide: number }) => [row.nLayers, row.receptiveField, row.outputSide])).toEqual([
      [0, 1, 256],
      [3, 70, 30],
    ]);
  });

  it("rf --net-d multiscale --num-d 3 prints pix2pixHD's discriminator with each scale's receptive field and logit map", async () => {
    const { evalRfCommand } = await import('../../src/cli/commands/rf.ts');
    const lines = (await runEval(['rf', '--net-d', 'multiscale', '--num-d', '3'], [evalRfCommand])).trim().split('\n');
    // The 70×70 stack on an s² input: four stride-2 convs and two stride-1 (k4, p1) ones; MACs = out² · cout · cin · 16.
    const macs70 = (s: number): number =>
      (s / 2) ** 2 * 64 * 6 * 16 +
      (s / 4) ** 2 * 128 * 64 * 16 +
      (s / 8) ** 2 * 256 * 128 * 16 +
      (s / 8 - 1) ** 2 * 512 * 256 * 16 +
      (s / 8 - 2) ** 2 * 512 * 16;
    expect(macs70(256)).toBe(3_197_140_992); // the 70×70 PatchGAN row of the table
    const macs = (macs70(256) + macs70(128) + macs70(64)).toLocaleString('en-US');
    // Receptive fields 70, 2·69 + 3, 2·140 + 3 (each scale behind one more 3×3 stride-2 pooling); 3 × 2,768,705 parameters.
    expect(lines).toEqual([
      '| n_layers_D | kind | receptive field | paper | logits at 256² | params | MACs at 256² |',
      '|---|---|---|---|---|---|---|',
      `| 3 | multi-scale PatchGAN, 3 scales | 70×70 / 141×141 / 283×283 |  | 30×30 / 14×14 / 6×6 | 8,306,115 | ${macs} |`,
    ]);
  });

  it('rf --num-d alone selects the multi-scale PatchGAN (as in train), at --n-layers-d per scale', async () => {
    const { evalRfCommand } = await import('../../src/cli/commands/rf.ts');
    const r = JSON.parse(await runEval(['rf', '--num_D', '2', '--n-layers-d', '2', '--size', '128', '--json'], [evalRfCommand]));
    expect(r.rows).toHaveLength(1);
    expect(r.rows[0]).toMatchObject({
      kind: 'multiscale',
      nLayers: 2,
      // 34×34 at 128² (128 → 64 → 32 → 31 → 30), then 2·33 + 3 at 64² (→ 32 → 16 → 15 → 14).
      scales: [
        { receptiveField: 34, outputSide: 30 },
        { receptiveField: 69, outputSide: 14 },
      ],
    });
  });

  it('rf refuses --num-d beside a one-scale discriminator, in one line naming both flags', async () => {
    for (const [args, said] of [
      [['--num-d', '3', '--rf', '70'], '--num-d is the number of scales of --net-d multiscale, not of --rf (one scale): drop one of them'],
      [['--net-d', 'basic', '--num-d', '2'], '--num-d is the number of scales of --net-d multiscale, not of --net-d basic: drop one of them'],
      [['--net-d', 'multiscale', '--rf', '70'], '--rf chooses a one-scale discriminator; --net-d multiscale takes --n-layers-d'],
    ] as const) {
      const r = await runCli(['eval', 'rf', ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toBe(`pix2pix: ${said}\n`);
    }
  });

  it('accepts further sub-commands from the caller', async () => {
    const ran: string[] = [];
    const extra: CommandModule<object, object> = { command: 'rf', describe: 'x', handler: () => void ran.push('rf') };
    await runEval(['rf'], [extra]);
    expect(ran).toEqual(['rf']);
  });
});
