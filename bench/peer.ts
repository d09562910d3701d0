/**
 * Runs the PyTorch reference benchmarks in ../shared/peers/pytorch (when torch is installed) so every
 * speed figure we print sits beside the peer's, measured in the same run on the same machine.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';

// PEER_DIR overrides where the PyTorch peer scripts live (e.g. on a GPU machine the tree was copied to).
export const PEER_DIR = process.env.PEER_DIR ? path.resolve(process.env.PEER_DIR) : path.resolve(import.meta.dirname, '../../shared/peers/pytorch');
const OPENBLAS = '/usr/lib/x86_64-linux-gnu/openblas-openmp';

export function peerAvailable(): boolean {
  if (!existsSync(PEER_DIR)) return false;
  const r = spawnSync('/usr/bin/python3', ['-c', 'import torch'], { encoding: 'utf8' });
  return r.status === 0;
}

/** Run a peer script; returns its stdout (throws with stderr on failure). */
export function runPeer(script: string, args: string[]): string {
  const r = spawnSync('/usr/bin/python3', [path.join(PEER_DIR, script), ...args], {
    encoding: 'utf8',
    env: { ...process.env, LD_LIBRARY_PATH: existsSync(OPENBLAS) ? OPENBLAS : (process.env.LD_LIBRARY_PATH ?? '') },
    timeout: 15 * 60_000,
  });
  if (r.status !== 0) throw new Error(`peer ${script} failed: ${r.stderr.slice(-500)}`);
  return r.stdout;
}

/** Parse `key=value` tokens of a peer result line. */
export function parsePeerLine(line: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of line.matchAll(/(\w[\w/]*)=([^\s\]]+)/g)) out[m[1]!] = m[2]!;
  return out;
}
