/**
 * Stopping `pix2pix eval run` with real processes (the CLI, its worker, the signals a terminal, a
 * job scheduler or an OOM killer sends), during the shared segmenter stage and during generator
 * training: every process of the run is gone within seconds, the exit status says which signal
 * stopped it, the stage claims are released (the next plain run takes them at once), training keeps
 * its last checkpoint, and a second `--resume` process with a short lease never takes over the
 * stage of a live worker (its heartbeat runs while it trains).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readClaim } from '../../src/experiments/claims.ts';
import { readCheckpoint } from '../../src/train/checkpoint.ts';

const ROOT = path.join(import.meta.dirname, '..', '..');
const BIN = path.join(ROOT, 'bin', 'pix2pix.mjs');
/** The most a stop may take here (the aim is 2 s; CI machines are loaded). */
const STOP_LIMIT_MS = 5000;

// A ground-truth row only: the run's one long stage is the segmenter (thousands of tiny steps; ort-cpu,
// whose steps stay short on a loaded machine).
const SEGMENTER_EXPERIMENT = `experiment: segstop
title: Stop during the segmenter
table: Table 1
task: labels2photo
dataset: { synthetic: { count: 8, size: 32, seed: 2, splits: { train: 0.5, val: 0.25, test: 0.25 } } }
scorer: { segmenter: train, segmenterTrain: { ngf: 4, depth: 2, batchSize: 1, epochs: 5000, engine: ort-cpu } }
variants:
  - { name: gt, kind: ground-truth }
profiles:
  ci: {}
`;

// One generator scored by colour (no segmenter): the run's long stage is generator training.
const TRAIN_EXPERIMENT = `experiment: trainstop
title: Stop during training
table: Figure 7(d)
task: color
dataset: { synthetic: { count: 8, size: 32, seed: 2, splits: { train: 0.5, val: 0.25, test: 0.25 } } }
train: { ngf: 4, ndf: 4, size: 32, rf: 16, nEpochs: 5000, nEpochsDecay: 0, engine: ort-cpu, valLimit: 1, sampleRows: 1 }
scorer: { bins: 16 }
variants:
  - { name: a }
profiles:
  ci: {}
`;

let dir: string;
let segFile: string;
let trainFile: string;
const started: Run[] = [];

interface Run {
  child: ChildProcess;
  pid: number;
  output: () => string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** `pix2pix eval run FILE` in its own process group (as a shell job), on one core. */
function evalRun(file: string, out: string, extra: string[] = []): Run {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('SLURM_ARRAY_') || k === 'JOB_COMPLETION_INDEX') delete env[k];
  const child = spawn(process.execPath, [BIN, 'eval', 'run', file, '--profile', 'ci', '--out', out, '--jobs', '1', ...extra], {
    cwd: ROOT,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  child.stdout.on('data', (d) => (text += d));
  child.stderr.on('data', (d) => (text += d));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const run = { child, pid: child.pid!, output: () => text, exit };
  started.push(run);
  return run;
}

async function waitFor(run: Run, pattern: RegExp, ms = 90_000): Promise<void> {
  const until = Date.now() + ms;
  let ended = false;
  void run.exit.then(() => (ended = true));
  while (!pattern.test(run.output())) {
    if (ended || Date.now() > until) throw new Error(`no ${pattern} ${ended ? 'before it exited' : `within ${ms} ms`}:\n${run.output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Live (not zombie) processes of process group `pgid`, from /proc. */
function groupMembers(pgid: number): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(pgrp) === pgid && state !== 'Z') pids.push(Number(name));
    } catch {
      // It ended while we looked.
    }
  }
  return pids;
}

/** Milliseconds until every process of the group is gone (fails past STOP_LIMIT_MS). */
async function groupGone(pgid: number): Promise<number> {
  const t0 = Date.now();
  while (groupMembers(pgid).length > 0) {
    if (Date.now() - t0 > STOP_LIMIT_MS) throw new Error(`still running ${STOP_LIMIT_MS} ms after the stop: ${groupMembers(pgid).join(', ')}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return Date.now() - t0;
}

function segmenterDir(out: string): string {
  const all = path.join(out, '_work', '_segmenters');
  const [name] = readdirSync(all);
  if (!name) throw new Error(`no segmenter folder in ${all}`);
  return path.join(all, name);
}

/** Wait for the worker to be training the segmenter; returns its claim's generation and pid. */
async function segmenterTraining(run: Run, out: string): Promise<{ gen: number; pid: number }> {
  await waitFor(run, /\[segmenter\] segmenter \[/);
  const c = await readClaim(segmenterDir(out), 'segmenter');
  expect(c?.record?.released).toBeUndefined();
  return { gen: c!.gen, pid: c!.record!.pid };
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'p2p-stop-'));
  segFile = path.join(dir, 'segstop.yaml');
  trainFile = path.join(dir, 'trainstop.yaml');
  await writeFile(segFile, SEGMENTER_EXPERIMENT);
  await writeFile(trainFile, TRAIN_EXPERIMENT);
});

afterEach(() => {
  // Whatever a failed test left running.
  for (const r of started.splice(0)) for (const pid of groupMembers(r.pid)) process.kill(pid, 'SIGKILL');
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('stopping eval run during the segmenter stage', () => {
  // One results folder for the whole sequence: each run starts where the stopped one left off.
  let out: string;
  let lastGen = 0;
  beforeAll(() => {
    out = path.join(dir, 'seg');
  });

  it.each([
    ['SIGTERM', 143],
    ['SIGINT', 130],
  ] as const)(
    '%s to the process group: every process gone within seconds, exit %i, the stop said as a stop, the claim released',
    async (signal, code) => {
      const run = evalRun(segFile, out);
      const claim = await segmenterTraining(run, out);
      // No --resume was needed: the previous stop (if any) released the claim, so this run took it at once.
      expect(claim.gen).toBe(lastGen + 1);
      expect(claim.pid).not.toBe(run.pid);
      process.kill(-run.pid, signal);
      const ms = await groupGone(run.pid);
      expect(await run.exit, run.output()).toEqual({ code, signal: null });
      expect(run.output()).toContain(`pix2pix: stopped by ${signal}; the stages it held are released`);
      expect(run.output()).not.toMatch(/internal error|worker exited/);
      const after = await readClaim(segmenterDir(out), 'segmenter');
      expect([after!.gen, after!.record!.released]).toEqual([claim.gen, true]);
      lastGen = claim.gen;
      console.log(`${signal} to the group: all processes gone after ${ms} ms`);
    },
    180_000,
  );

  it('SIGTERM to the main process alone (a scheduler that signals one pid): it stops its worker, exits 143, releases the claim', async () => {
    const run = evalRun(segFile, out);
    const claim = await segmenterTraining(run, out);
    expect(claim.gen).toBe(lastGen + 1);
    run.child.kill('SIGTERM');
    const ms = await groupGone(run.pid);
    expect(await run.exit, run.output()).toEqual({ code: 143, signal: null });
    expect(run.output()).toContain('pix2pix: stopped by SIGTERM');
    expect((await readClaim(segmenterDir(out), 'segmenter'))!.record!.released).toBe(true);
    lastGen = claim.gen;
    console.log(`SIGTERM to the main process: all processes gone after ${ms} ms`);
  }, 180_000);

  it('SIGKILL to the main process: its orphaned worker notices, releases the claim and exits within seconds', async () => {
    const run = evalRun(segFile, out);
    const claim = await segmenterTraining(run, out);
    expect(claim.gen).toBe(lastGen + 1);
    run.child.kill('SIGKILL');
    const ms = await groupGone(run.pid);
    expect((await run.exit).signal).toBe('SIGKILL');
    expect((await readClaim(segmenterDir(out), 'segmenter'))!.record!.released).toBe(true);
    lastGen = claim.gen;
    console.log(`SIGKILL to the main process: its worker gone after ${ms} ms`);
  }, 180_000);

  it('a second --resume process with a short lease waits for the live worker instead of taking its stage over', async () => {
    const lease = 2;
    const first = evalRun(segFile, out, ['--lease', `${lease}s`]);
    const claim = await segmenterTraining(first, out);
    // Long enough that a worker without a heartbeat would look stale.
    await new Promise((r) => setTimeout(r, 2 * lease * 1000));
    const second = evalRun(segFile, out, ['--resume', '--lease', `${lease}s`]);
    await waitFor(second, /segmenter: waiting for \S+ pid \d+ since .* to finish training it/);
    expect(second.output()).toMatch(new RegExp(`segmenter: waiting for \\S+ pid ${claim.pid} since .* to finish training it`));
    // It polls every 2 s: give it two more leases to (wrongly) take over.
    await new Promise((r) => setTimeout(r, 2 * lease * 1000));
    const now = await readClaim(segmenterDir(out), 'segmenter');
    expect([now!.gen, now!.record!.pid, now!.record!.released]).toEqual([claim.gen, claim.pid, undefined]);
    expect(Date.parse(now!.record!.heartbeatAt)).toBeGreaterThan(Date.now() - 2 * lease * 1000);
    expect(second.output()).not.toContain('[segmenter] segmenter: start');
    for (const r of [first, second]) process.kill(-r.pid, 'SIGTERM');
    for (const r of [first, second]) await groupGone(r.pid);
    expect((await first.exit).code).toBe(143);
    expect((await second.exit).code).toBe(143);
  }, 180_000);
});

describe('a worker whose claim is taken over', () => {
  it('stops at its next heartbeat, records nothing, and the run says who took the stage over (exit 2)', async () => {
    const out = path.join(dir, 'taken');
    const run = evalRun(segFile, out, ['--lease', '2s']);
    const claim = await segmenterTraining(run, out);
    // Another machine's process takes the stage over (as after a lease that ran out while this one froze).
    const seg = segmenterDir(out);
    const now = Date.now();
    const other = { stage: 'segmenter', host: 'elsewhere', pid: 4242, procStart: null, token: 'other', leaseSeconds: 3600 };
    const times = { startedAt: new Date(now).toISOString(), heartbeatAt: new Date(now).toISOString(), expiresAt: new Date(now + 3600_000).toISOString() };
    await writeFile(path.join(seg, `segmenter.claim.${claim.gen + 1}.json`), JSON.stringify({ ...other, ...times }));
    const ms = await groupGone(run.pid);
    expect((await run.exit).code, run.output()).toBe(2);
    expect(run.output().trim().split('\n').at(-1)).toMatch(
      /^pix2pix: segmenter: elsewhere pid 4242 since .* took over stage segmenter in .* after this process's lease ran out; stopped here, nothing recorded/,
    );
    expect(existsSync(path.join(seg, 'segmenter.json'))).toBe(false);
    // The new holder's claim is left as it was.
    expect((await readClaim(seg, 'segmenter'))!.record).toMatchObject({ host: 'elsewhere', pid: 4242 });
    console.log(`claim taken over: all processes gone after ${ms} ms`);
  }, 180_000);
});

describe('stopping eval run during generator training', () => {
  it('SIGTERM after an epoch: every process gone within seconds, the last checkpoint intact, --resume continues from it', async () => {
    const out = path.join(dir, 'train');
    const run = evalRun(trainFile, out);
    const work = path.join(out, '_work', 'trainstop');
    // Stop once two epoch checkpoints are written.
    const losses = (): string | null => {
      const name = existsSync(work) ? readdirSync(work).find((n) => n.startsWith('a-')) : undefined;
      const f = name ? path.join(work, name, 'train', 'losses.csv') : null;
      return f && existsSync(f) ? readFileSync(f, 'utf8') : null;
    };
    for (const until = Date.now() + 90_000; (losses()?.trim().split('\n').length ?? 0) < 3;) {
      if (Date.now() > until) throw new Error(`no second epoch:\n${run.output()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    process.kill(-run.pid, 'SIGTERM');
    const ms = await groupGone(run.pid);
    expect(await run.exit, run.output()).toEqual({ code: 143, signal: null });
    const runDir = path.join(
      work,
      readdirSync(work).find((n) => n.startsWith('a-'))!,
    );
    expect((await readClaim(runDir, 'train'))!.record!.released).toBe(true);
    const ckpt = await readCheckpoint(path.join(runDir, 'train'));
    expect(ckpt.header.model.epoch).toBeGreaterThanOrEqual(2);
    console.log(`SIGTERM during training: all processes gone after ${ms} ms; checkpoint at epoch ${ckpt.header.model.epoch}`);

    const resumed = evalRun(trainFile, out, ['--resume']);
    await waitFor(resumed, new RegExp(`\\[a\\] resuming from .*checkpoint\\.bin after epoch ${ckpt.header.model.epoch}`));
    process.kill(-resumed.pid, 'SIGINT');
    await groupGone(resumed.pid);
    expect((await resumed.exit).code).toBe(130);
  }, 180_000);
});
