/**
 * Runs the PyTorch peer benchmarks (a PyTorch implementation of the same networks, in the folder
 * PIX2PIX_PEER_DIR names; when torch is installed) so every speed figure we print sits beside the
 * peer's, measured in the same run on the same machine.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';

// PIX2PIX_PEER_DIR (or PEER_DIR) names the peer folder (docs/benchmarks.md says what it holds); the
// default is a `shared/peers/pytorch` folder beside this checkout, where the team's machines keep it.
export const PEER_DIR = path.resolve(process.env.PIX2PIX_PEER_DIR ?? process.env.PEER_DIR ?? path.join(import.meta.dirname, '../../shared/peers/pytorch'));
const OPENBLAS = '/usr/lib/x86_64-linux-gnu/openblas-openmp';

export function peerAvailable(): boolean {
  if (!existsSync(PEER_DIR)) return false;
  const r = spawnSync('/usr/bin/python3', ['-c', 'import torch'], { encoding: 'utf8' });
  return r.status === 0;
}

/**
 * Run a peer script; returns its stdout (throws with stderr on failure). With `cpuClock` the script's
 * `time.perf_counter` reads the process's CPU time instead (`time.process_time`, all threads), so a
 * timing it prints is CPU seconds: on one thread that is its step time with the cores to itself,
 * which a shared host does not change much.
 */
export function runPeer(script: string, args: string[], env: Record<string, string> = {}, cpuClock = false): string {
  const file = path.join(PEER_DIR, script);
  const pyArgs = cpuClock
    ? [
        '-c',
        'import runpy, sys, time; time.perf_counter = time.process_time; sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name="__main__")',
        file,
        ...args,
      ]
    : [file, ...args];
  const r = spawnSync('/usr/bin/python3', pyArgs, {
    encoding: 'utf8',
    env: { ...process.env, ...env, LD_LIBRARY_PATH: existsSync(OPENBLAS) ? OPENBLAS : (process.env.LD_LIBRARY_PATH ?? '') },
    timeout: 15 * 60_000,
  });
  if (r.status !== 0) throw new Error(`peer ${script} failed: ${r.stderr.slice(-500)}`);
  return r.stdout;
}

/** Parse `key=value` tokens of a peer result line. */
export function parsePeerLine(line: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of line.matchAll(/(\w[\w/]*)=([^\s\]]+)/g)) out[m[1]] = m[2];
  return out;
}
