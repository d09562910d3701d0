/**
 * Stage claims (src/experiments/claims.ts): the staleness rules on hand-made claim files, takeover,
 * heartbeat and lost claims in this process; then several real processes on one folder.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  acquireClaim,
  type ClaimFile,
  type ClaimRecord,
  claimPath,
  heartbeatMs,
  judgeClaim,
  onLostClaim,
  parseDuration,
  type Probe,
  processStart,
  readClaim,
} from '../../src/experiments/claims.ts';
import { readMarker, STAGES } from '../../src/experiments/stages.ts';

const FIXTURE = path.join(import.meta.dirname, 'fixtures', 'claim-worker.ts');
let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'p2p-claims-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const NOW = Date.parse('2026-12-01T12:00:00Z');

function record(over: Partial<ClaimRecord> = {}): ClaimRecord {
  return {
    stage: 'train',
    host: 'node7',
    pid: 4242,
    procStart: '1000',
    token: 'abc',
    startedAt: '2026-12-01T11:00:00Z',
    heartbeatAt: '2026-12-01T11:59:00Z',
    expiresAt: '2026-12-01T12:59:00Z',
    leaseSeconds: 3600,
    ...over,
  };
}

function probe(over: Partial<Probe> = {}): Probe {
  return { host: 'node1', alive: () => true, startOf: () => '1000', ownTokens: new Set(), pid: 1, ...over };
}

const file = (r: ClaimRecord | null, mtimeMs = NOW): ClaimFile => ({ gen: 1, file: 'x', record: r, mtimeMs });

describe('judgeClaim', () => {
  it('a claim on another host is live until its lease runs out', () => {
    expect(judgeClaim(file(record()), NOW, probe())).toEqual({ stale: false, why: 'heartbeat 60 s ago' });
    expect(judgeClaim(file(record({ expiresAt: '2026-12-01T11:59:59Z' })), NOW, probe())).toEqual({
      stale: true,
      why: 'lease of 60 min ran out (heartbeat 60 s ago)',
    });
  });

  it('on this host: stale when its process is gone, or the pid now belongs to another process', () => {
    const here = probe({ host: 'node7' });
    expect(judgeClaim(file(record()), NOW, here).stale).toBe(false);
    expect(judgeClaim(file(record()), NOW, { ...here, alive: () => false })).toEqual({ stale: true, why: 'process 4242 on node7 is gone' });
    expect(judgeClaim(file(record()), NOW, { ...here, startOf: () => '2000' })).toEqual({
      stale: true,
      why: 'process 4242 on node7 is gone (its pid was reused)',
    });
    // A restarted container: same host name, same pid, but not a claim this process made.
    expect(judgeClaim(file(record()), NOW, { ...here, pid: 4242 }).stale).toBe(true);
    expect(judgeClaim(file(record()), NOW, { ...here, pid: 4242, ownTokens: new Set(['abc']) }).stale).toBe(false);
  });

  it('an unreadable claim file is being written for a minute, then stale', () => {
    expect(judgeClaim(file(null, NOW - 5_000), NOW, probe()).stale).toBe(false);
    expect(judgeClaim(file(null, NOW - 120_000), NOW, probe()).stale).toBe(true);
  });
});

describe('parseDuration, heartbeat', () => {
  it('reads s, m, h, d and plain seconds', () => {
    expect(['90s', '30m', '6h', '1d', '45', '0.5h'].map((t) => parseDuration(t))).toEqual([90, 1800, 21600, 86400, 45, 1800]);
    expect(() => parseDuration('soon')).toThrow(/^--lease 'soon' should be a duration like 90s, 30m, 6h or 1d$/);
    expect(() => parseDuration('0s')).toThrow(/must be longer than 0/);
  });

  it('beats every quarter lease, at most once a minute', () => {
    expect([1, 60, 3600].map(heartbeatMs)).toEqual([250, 15_000, 60_000]);
  });

  it('reads the start time of this process from /proc (Linux)', () => {
    if (process.platform !== 'linux') return;
    expect(processStart(process.pid)).toMatch(/^\d+$/);
  });
});

describe('acquireClaim (one process)', () => {
  it('one claim at a time; release frees it; generations go up', async () => {
    const a = await acquireClaim(dir, 'train', { leaseSeconds: 3600, resume: false });
    expect(a.ok).toBe(true);
    const b = await acquireClaim(dir, 'train', { leaseSeconds: 3600, resume: true });
    expect(b).toMatchObject({ ok: false, stale: false });
    if (!a.ok) return;
    expect(a.claim.record).toMatchObject({ stage: 'train', host: hostname(), pid: process.pid });
    await a.claim.release();
    expect((await readClaim(dir, 'train'))?.record?.released).toBe(true);
    const c = await acquireClaim(dir, 'train', { leaseSeconds: 3600, resume: false });
    expect(c.ok && c.claim.gen).toBe(2);
    if (c.ok) await c.claim.release();
  });

  it('a stale claim of another host is taken over only with resume; its old holder then knows it lost it', async () => {
    const a = await acquireClaim(dir, 'export', { leaseSeconds: 3600, resume: false });
    if (!a.ok) throw new Error('no claim');
    // Pretend a's machine froze: its lease ran out on another host.
    const frozen = { ...a.claim.record, host: 'elsewhere', expiresAt: new Date(Date.now() - 1000).toISOString() };
    await writeFile(claimPath(dir, 'export', 1), JSON.stringify(frozen));
    const without = await acquireClaim(dir, 'export', { leaseSeconds: 3600, resume: false });
    expect(without).toMatchObject({ ok: false, stale: true });
    const taken = await acquireClaim(dir, 'export', { leaseSeconds: 3600, resume: true });
    expect(taken.ok && taken.claim.gen).toBe(2);
    expect(await a.claim.stillMine()).toBe(false);
    await a.claim.release();
    // The old holder's release does not free the new holder's claim.
    expect((await readClaim(dir, 'export'))?.record?.released).toBeUndefined();
    if (taken.ok) await taken.claim.release();
  });

  it('a holder whose heartbeat finds its claim taken over is told (a worker then stops), once', async () => {
    const lost: string[] = [];
    onLostClaim((stage, _dir, holder) => lost.push(`${stage} ${holder}`));
    try {
      const a = await acquireClaim(dir, 'translate', { leaseSeconds: 0.4, resume: false });
      if (!a.ok) throw new Error('no claim');
      // Another process took the stage over (generation 2) while this one was busy.
      await writeFile(
        claimPath(dir, 'translate', 2),
        JSON.stringify(record({ stage: 'translate', host: 'node7', expiresAt: new Date(Date.now() + 60_000).toISOString() })),
      );
      await new Promise((r) => setTimeout(r, 450));
      expect(lost).toEqual([expect.stringMatching(/^translate node7 pid 4242 since 2026-12-01T11:00:00Z \(heartbeat .* ago\)$/)]);
      await a.claim.release();
      expect((await readClaim(dir, 'translate'))!.record!.released).toBeUndefined();
    } finally {
      onLostClaim(null);
    }
  });

  it('the heartbeat pushes the expiry forward', async () => {
    const a = await acquireClaim(dir, 'score', { leaseSeconds: 0.4, resume: false });
    if (!a.ok) throw new Error('no claim');
    const first = (await readClaim(dir, 'score'))!.record!.expiresAt;
    await new Promise((r) => setTimeout(r, 350));
    const later = (await readClaim(dir, 'score'))!.record!.expiresAt;
    expect(Date.parse(later)).toBeGreaterThan(Date.parse(first));
    await a.claim.release();
  });
});

interface Proc {
  done: Promise<number | null>;
  output: () => string;
  kill: (signal?: NodeJS.Signals) => void;
}

function worker(out: string, runs: number, ms: number, extra: string[] = []): Proc {
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, out, String(runs), String(ms), ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  child.stdout.on('data', (d) => (text += d));
  child.stderr.on('data', (d) => (text += d));
  return { done: new Promise((r) => child.on('exit', (c) => r(c))), output: () => text, kill: (signal = 'SIGKILL') => child.kill(signal) };
}

async function started(p: Proc): Promise<void> {
  for (let i = 0; !p.output().includes('HANGING'); i++) {
    if (i > 600) throw new Error(`never started:\n${p.output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function ranLines(out: string): Promise<string[]> {
  return (await readFile(path.join(out, 'ran.log'), 'utf8')).trim().split('\n');
}

describe('several processes on one folder', () => {
  it('four processes on three runs: every stage runs exactly once, and every run completes', async () => {
    const procs = Array.from({ length: 4 }, () => worker(dir, 3, 150));
    const codes = await Promise.all(procs.map((p) => p.done));
    expect(codes, procs.map((p) => p.output()).join('\n')).toEqual([0, 0, 0, 0]);
    const lines = await ranLines(dir);
    const done = lines.map((l) => l.split(' ').slice(1).join(' ')).sort();
    const expected = [0, 1, 2].flatMap((r) => STAGES.map((s) => `run-${r} ${s}`)).sort();
    expect(done).toEqual(expected);
    // The work was shared: more than one process ran stages.
    expect(new Set(lines.map((l) => l.split(' ')[0])).size).toBeGreaterThan(1);
    for (const r of [0, 1, 2]) expect(Object.keys((await readMarker(path.join(dir, `run-${r}`)))!.stages)).toEqual([...STAGES]);
  }, 60_000);

  it.each([
    ['SIGTERM', 143],
    ['SIGINT', 130],
  ] as const)(
    'a holder stopped with %s releases its claim, says it stopped, exits %i; the next run takes the stage without --resume',
    async (signal, code) => {
      const hung = worker(dir, 1, 10, ['--hang']);
      await started(hung);
      hung.kill(signal);
      expect(await hung.done).toBe(code);
      expect(hung.output()).toContain(`pix2pix: stopped by ${signal}; the stages it held are released: run the same command again to continue`);
      expect((await readClaim(path.join(dir, 'run-0'), 'train'))!.record!.released).toBe(true);
      const next = worker(dir, 1, 10);
      expect(await next.done, next.output()).toBe(0);
      expect(next.output()).toContain('"blocked":null');
      expect((await ranLines(dir)).map((l) => l.split(' ')[2])).toEqual(['train', ...STAGES]);
    },
    60_000,
  );

  it('a SIGKILLed holder leaves a stale claim: the next run skips it without --resume and takes it over with it', async () => {
    const hung = worker(dir, 1, 10, ['--hang']);
    await started(hung);
    hung.kill();
    await hung.done;
    const plain = worker(dir, 1, 10);
    expect(await plain.done).toBe(0);
    expect(plain.output()).toMatch(/train: claimed by .* pid \d+ since .*is gone\); the claim is stale: pass --resume to take it over \(skipped here\)/);
    expect(plain.output()).toContain('"blocked":{"stage":"train"');
    const resumed = worker(dir, 1, 10, ['--resume']);
    expect(await resumed.done, resumed.output()).toBe(0);
    expect(resumed.output()).toContain('"blocked":null');
    expect(Object.keys((await readMarker(path.join(dir, 'run-0')))!.stages)).toEqual([...STAGES]);
    expect((await readClaim(path.join(dir, 'run-0'), 'train'))!.gen).toBe(2);
    // train ran twice (killed, then taken over), every later stage once.
    expect((await ranLines(dir)).map((l) => l.split(' ')[2])).toEqual(['train', ...STAGES]);
  }, 60_000);
});
