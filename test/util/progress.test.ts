import { afterEach, describe, expect, it, vi } from 'vitest';
import { byteProgress, ProgressBar } from '../../src/util/progress.ts';

/** A stand-in stderr that keeps what is written (not a TTY: one line per print). */
function sink(): { stream: NodeJS.WriteStream; lines: string[] } {
  const lines: string[] = [];
  const stream = { isTTY: false, write: (s: string) => lines.push(s) } as unknown as NodeJS.WriteStream;
  return { stream, lines };
}

describe('ProgressBar', () => {
  afterEach(() => vi.restoreAllMocks());

  it('a resumed bar shows the position reached but counts only this run in the rate and ETA', () => {
    const now = vi.spyOn(performance, 'now').mockReturnValue(1000);
    const { stream } = sink();
    const bar = new ProgressBar({ label: 'train', total: 100, unit: 'step', stream, initial: 90 });
    now.mockReturnValue(3000); // 2 s later
    bar.tick(1);
    expect(bar.rate()).toBe(0.5); // 1 step in 2 s, not 91
    expect(bar.line()).toBe('train [##################..] 91/100 91% 0.50 step/s ETA 0:18');
  });

  it('a finished run opened at its end reports no speed it did not measure', () => {
    const now = vi.spyOn(performance, 'now').mockReturnValue(1000);
    const bar = new ProgressBar({ label: 'train', total: 400, unit: 'step', stream: sink().stream, initial: 400 });
    now.mockReturnValue(1000.001);
    expect(bar.rate()).toBe(0);
  });
});

describe('byteProgress', () => {
  const MiB = 2 ** 20;
  afterEach(() => vi.restoreAllMocks());

  /** A clock that is a log interval further on at each line printed, so that only byteProgress decides what is drawn. */
  const clockPastEachLogInterval = (lines: string[]): void => void vi.spyOn(performance, 'now').mockImplementation(() => 1e9 + lines.length * 1e6);

  it('opens no bar until the total is known', () => {
    const { stream, lines } = sink();
    const p = byteProgress({ label: 'facades', stream });
    p.update(5 * MiB, undefined);
    p.finish();
    expect(lines).toEqual([]);
  });

  it('counts whole MiB received and ends at total/total for a size that is not a whole number of MiB', () => {
    const { stream, lines } = sink();
    clockPastEachLogInterval(lines);
    const p = byteProgress({ label: 'facades', stream });
    const total = 2.5 * MiB; // 3 MiB rounded up
    p.update(0, total);
    p.update(1.9 * MiB, total); // 1 whole MiB so far
    p.update(total, total);
    p.finish();
    expect(lines.map((l) => l.split(' ')[2])).toEqual(['0/3', '1/3', '3/3']);
    expect(lines.at(-1)).toMatch(/^facades \[#{20}\] 3\/3 100% [\d.]+ MiB\/s/);
  });

  it('redraws only when the count of whole MiB changes', () => {
    const { stream, lines } = sink();
    clockPastEachLogInterval(lines);
    const p = byteProgress({ label: 'weights', stream });
    for (let b = 0; b <= 2 * MiB; b += MiB / 4) p.update(b, 4 * MiB);
    expect(lines.map((l) => l.split(' ')[2])).toEqual(['0/4', '1/4', '2/4']);
  });

  it('a bar for an empty file reads 1/1 when done, not 0/0', () => {
    const { stream, lines } = sink();
    const p = byteProgress({ label: 'empty', stream });
    p.update(0, 0);
    p.finish();
    expect(lines.at(-1)?.split(' ')[2]).toBe('1/1');
  });
});
