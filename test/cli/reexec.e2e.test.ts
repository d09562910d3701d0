/**
 * Training commands re-execute the CLI once with glibc malloc settings (src/util/malloc-tunables.ts).
 * The child must never outlive a parent that was killed outright: an orphan would keep training
 * beside whatever the user starts next in the same folder.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { synthesizeDataset } from '../../src/data/synth.ts';

const BIN = path.resolve(import.meta.dirname, '../../bin/pix2pix.mjs');

/** PIDs of processes whose command line mentions `marker`. */
function processesWith(marker: string): number[] {
  const ps = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' });
  return ps
    .split('\n')
    .filter((l) => l.includes(marker) && !l.includes('ps -eo'))
    .map((l) => Number(l.trim().split(/\s+/)[0]));
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('the CLI re-execution for training commands', () => {
  it.runIf(process.platform === 'linux')(
    'runs training in a child with the malloc settings, which dies with a SIGKILLed parent',
    async () => {
      const base = mkdtempSync(path.join(tmpdir(), 'p2p-reexec-'));
      const data = path.join(base, 'data');
      await synthesizeDataset({ out: data, count: 12, size: 16, seed: 1 });
      const out = path.join(base, 'run');
      const args = [
        'train',
        '--data',
        data,
        '--out',
        out,
        '--size',
        '16',
        '--netG',
        'unet_16',
        '--ngf',
        '4',
        '--ndf',
        '4',
        '--n_layers_D',
        '1',
        '--engine',
        'cpu',
        '--epochs',
        '500',
      ];
      const parent = spawn(process.execPath, [BIN, ...args], { stdio: 'ignore', env: { ...process.env, GLIBC_TUNABLES: '' } });
      // Wait until training has written its first epoch's checkpoint.
      for (let i = 0; i < 600 && !existsSync(path.join(out, 'checkpoint.bin')); i++) await sleep(100);
      expect(existsSync(path.join(out, 'checkpoint.bin'))).toBe(true);
      const running = processesWith(out);
      expect(running).toContain(parent.pid);
      expect(running.length).toBe(2); // the parent and its re-executed child
      const child = running.find((p) => p !== parent.pid)!;
      // glibc's loader parses GLIBC_TUNABLES in place, so /proc shows the variable cut after its first
      // tunable (`ld.so --list-tunables` confirms both take effect).
      const environ = execFileSync('cat', [`/proc/${child}/environ`])
        .toString()
        .split('\0');
      expect(environ.some((e) => e.startsWith('GLIBC_TUNABLES=glibc.malloc.mmap_threshold=33554432'))).toBe(true);
      parent.kill('SIGKILL');
      for (let i = 0; i < 50 && processesWith(out).length > 0; i++) await sleep(100);
      expect(processesWith(out)).toEqual([]);
    },
    120_000,
  );
});
