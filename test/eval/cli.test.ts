import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import yargs from 'yargs';
import type { CommandModule } from 'yargs';
import { buildEvalCommand } from '../../src/cli/commands/eval.ts';
import { writeImage, writeLabelImage } from '../../src/data/image.ts';
import { writeTinySegmenter } from './tiny-segmenter.ts';

/** Run `pix2pix eval …` in-process; returns what it printed on stdout. */
async function runEval(args: string[], extra: CommandModule<object, object>[] = []): Promise<string> {
  let out = '';
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  const quietStderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    await yargs(['eval', ...args]).command(buildEvalCommand(extra)).strict().fail((msg, err) => {
      throw err ?? new Error(msg);
    }).parseAsync();
  } finally {
    spy.mockRestore();
    quietStderr.mockRestore();
  }
  return out;
}

afterEach(() => vi.restoreAllMocks());

describe('pix2pix eval', () => {
  it('fcn-score prints the three scores and a per-class table, and writes the CSV', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'cli-eval-'));
    const id = 'aachen_000000_000019';
    await writeImage(path.join(root, 'gen', `${id}_leftImg8bit.png`), { width: 2, height: 1, data: Uint8Array.from([255, 0, 0, 0, 200, 0]) });
    mkdirSync(path.join(root, 'gt', 'aachen'), { recursive: true });
    await writeLabelImage(path.join(root, 'gt', 'aachen', `${id}_gtFine_labelIds.png`), { width: 2, height: 1, data: Uint8Array.from([7, 7]) });
    const seg = writeTinySegmenter(root);
    writeFileSync(`${seg}.json`, JSON.stringify({ numClasses: 4, classToTrainId: [0, 1, 2, 255], mean: [128, 128, 128] }));
    const csv = path.join(root, 'scores.csv');
    const out = await runEval(['fcn-score', '--segmenter', seg, '--images', path.join(root, 'gen'), '--labels', path.join(root, 'gt'), '--csv', csv, '--quiet']);
    // pixels: road→road, road→sidewalk
    expect(out).toContain('Mean pixel accuracy: 0.5000');
    expect(out).toMatch(/road\s+0\s+0\.5000\s+0\.5000\s+2/);
    const lines = readFileSync(csv, 'utf8').trim().split(/\r?\n/);
    expect(lines[0]).toBe('class,trainId,gtPixels,accuracy,iou');
    const road = lines[1]!.split(',');
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

  it('accepts further sub-commands from the caller', async () => {
    const ran: string[] = [];
    const extra: CommandModule<object, object> = { command: 'rf', describe: 'x', handler: () => void ran.push('rf') };
    await runEval(['rf'], [extra]);
    expect(ran).toEqual(['rf']);
  });
});
