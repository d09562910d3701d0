import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { hasMallocTunables, trainingEnv, withMallocTunables } from '../../src/util/malloc-tunables.ts';

const BIN = fileURLToPath(new URL('../../bin/pix2pix.mjs', import.meta.url));

describe('malloc tunables for training processes', () => {
  it('adds the mmap and trim thresholds to an empty environment', () => {
    expect(withMallocTunables(undefined)).toBe('glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=4294967296');
    expect(hasMallocTunables(undefined)).toBe(false);
    expect(hasMallocTunables(withMallocTunables(undefined))).toBe(true);
  });

  it("keeps the user's other tunables and the user's value for one of ours", () => {
    const user = 'glibc.malloc.arena_max=2:glibc.malloc.trim_threshold=1000';
    expect(withMallocTunables(user)).toBe('glibc.malloc.arena_max=2:glibc.malloc.trim_threshold=1000:glibc.malloc.mmap_threshold=33554432');
    expect(trainingEnv({ PATH: '/bin', GLIBC_TUNABLES: user })).toEqual({ PATH: '/bin', GLIBC_TUNABLES: withMallocTunables(user) });
  });

  it('the CLI re-executes a training command with them, passing its output and exit status through', () => {
    const r = spawnSync(process.execPath, [BIN, 'train', '--data', '/nonexistent-pix2pix-data', '--out', '/tmp/unused'], {
      encoding: 'utf8',
      env: { ...process.env, GLIBC_TUNABLES: '' },
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/nonexistent-pix2pix-data/);
  }, 60_000);
});
