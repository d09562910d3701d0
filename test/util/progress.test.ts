import { afterEach, describe, expect, it, vi } from 'vitest';
import { ProgressBar } from '../../src/util/progress.ts';

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
