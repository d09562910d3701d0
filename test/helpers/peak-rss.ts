import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

const MAIN = path.resolve('src/cli/main.ts');

export interface MeasuredRun {
  code: number | null;
  stderr: string;
  /** Peak resident memory of the process (getrusage), in MiB: what the kernel's OOM killer sees. */
  peakRssMiB: number;
}

/**
 * Run the CLI in a fresh Node process (so the peak belongs to this command alone) and report its
 * exit code, stderr and peak RSS. The peak is printed on stdout at exit, after the command.
 */
export function runCliMeasured(args: string[], opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): MeasuredRun {
  const script = `
    const { main } = await import(${JSON.stringify(MAIN)});
    process.on('exit', () => process.stdout.write('\\npeak-rss ' + process.resourceUsage().maxRSS + '\\n'));
    await main(${JSON.stringify(args)});
  `;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    encoding: 'utf8',
    timeout: opts.timeoutMs ?? 120_000,
    env: opts.env ?? process.env,
    maxBuffer: 64 * 2 ** 20,
  });
  const m = /peak-rss (\d+)/.exec(r.stdout);
  return { code: r.status, stderr: r.stderr, peakRssMiB: m ? Number(m[1]) / 1024 : Number.NaN };
}
