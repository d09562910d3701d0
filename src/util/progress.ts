/**
 * A progress bar on stderr: `label [#####.....] 12/40 30% 3.1 it/s ETA 0:09 | extra`.
 * On a TTY it redraws one line; otherwise it prints a line at most every `logEverySeconds`,
 * so CI logs and redirected files stay readable.
 */
export interface ProgressOptions {
  label: string;
  total: number;
  unit?: string;
  stream?: NodeJS.WriteStream;
  logEverySeconds?: number;
  /** Silence all output (library use, tests). */
  quiet?: boolean;
  /** Position already reached when the bar opens (a resumed run): shown, but not counted in the rate. */
  initial?: number;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const mm = h > 0 ? String(m).padStart(2, '0') : String(m);
  return (h > 0 ? `${h}:` : '') + `${mm}:${String(sec).padStart(2, '0')}`;
}

export class ProgressBar {
  private done = 0;
  private readonly start = performance.now();
  private lastPrint = 0;
  private readonly stream: NodeJS.WriteStream;
  private readonly tty: boolean;
  private extra = '';
  private lastLine = '';
  private lastDone = -1;

  constructor(private readonly opts: ProgressOptions) {
    this.done = opts.initial ?? 0;
    this.stream = opts.stream ?? process.stderr;
    this.tty = Boolean(this.stream.isTTY);
  }

  /** Advance by `n` and optionally replace the trailing text (losses, counts). */
  tick(n = 1, extra?: string): void {
    this.done += n;
    if (extra !== undefined) this.extra = extra;
    this.render(false);
  }

  /** Set the absolute position (e.g. when resuming). */
  set(done: number, extra?: string): void {
    this.done = done;
    if (extra !== undefined) this.extra = extra;
    this.render(false);
  }

  rate(): number {
    const elapsed = (performance.now() - this.start) / 1000;
    return elapsed > 0 ? (this.done - (this.opts.initial ?? 0)) / elapsed : 0;
  }

  line(): string {
    const { total, label } = this.opts;
    const unit = this.opts.unit ?? 'it';
    const frac = total > 0 ? Math.min(1, this.done / total) : 1;
    const width = 20;
    const filled = Math.round(frac * width);
    const rate = this.rate();
    const eta = rate > 0 ? (total - this.done) / rate : Number.NaN;
    const bar = '#'.repeat(filled) + '.'.repeat(width - filled);
    const extra = this.extra ? ` | ${this.extra}` : '';
    return `${label} [${bar}] ${this.done}/${total} ${Math.round(frac * 100)}% ${rate.toFixed(2)} ${unit}/s ETA ${formatDuration(eta)}${extra}`;
  }

  private render(final: boolean): void {
    if (this.opts.quiet) return;
    const now = performance.now();
    const every = (this.opts.logEverySeconds ?? (this.tty ? 0.1 : 10)) * 1000;
    if (!final && now - this.lastPrint < every && this.done < this.opts.total) return;
    this.lastPrint = now;
    const line = this.line();
    if (this.tty) this.stream.write(`\r\x1b[K${line}${final ? '\n' : ''}`);
    // In a log, the final call repeats nothing when the finished state was already printed.
    else if (!(final && this.lastDone === this.done && line.split(' | ')[1] === this.lastLine.split(' | ')[1])) this.stream.write(`${line}\n`);
    this.lastLine = line;
    this.lastDone = this.done;
  }

  finish(extra?: string): void {
    if (extra !== undefined) this.extra = extra;
    this.render(true);
  }
}

const MIB = 2 ** 20;

/** What a download or a streamed write reports: bytes so far, and the total once it is known. */
export interface ByteProgress {
  update(done: number, total: number | undefined): void;
  finish(): void;
}

/**
 * A progress bar over bytes, shown in whole MiB and opened once the total is known (a server that
 * announces no length gets no bar). It redraws only when the MiB count changes, and a finished
 * transfer reads total/total even when the size is not a whole number of MiB.
 */
export function byteProgress(opts: Pick<ProgressOptions, 'label' | 'quiet' | 'stream'>): ByteProgress {
  let bar: ProgressBar | undefined;
  let shown = -1;
  return {
    update: (done, total) => {
      if (total === undefined) return;
      const totalMib = Math.max(1, Math.ceil(total / MIB));
      bar ??= new ProgressBar({ ...opts, total: totalMib, unit: 'MiB' });
      const mib = done >= total ? totalMib : Math.floor(done / MIB);
      if (mib !== shown) bar.set((shown = mib));
    },
    finish: () => bar?.finish(),
  };
}
