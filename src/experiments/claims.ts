/**
 * Stage claims that work on a shared filesystem (NFS and the like), where local locks (flock) do
 * not reach other machines. The only primitive used is the exclusive create (`open(…, 'wx')`,
 * O_CREAT|O_EXCL), which is atomic on the server for NFSv3 and later.
 *
 * A stage `s` of a folder is claimed by creating `s.claim.<g>.json` for the next generation g; the
 * claim with the highest generation is the current one. It records host, pid (and the process's
 * start time, so a reused pid is not mistaken for the holder), when it started, and until when it
 * holds: the holder rewrites it every quarter lease (heartbeat). A claim is stale when its lease has
 * run out, or when its process is gone from this host. Taking over a stale claim (with `--resume`)
 * is creating generation g+1: of several takers exactly one create succeeds. Claim files are never
 * deleted, so a generation number is never reused: a taker working from an old directory listing
 * fails its create instead of winning a claim that someone else holds. A released claim is rewritten
 * with `released: true` (the stage is free again).
 */
import { randomBytes } from 'node:crypto';
import { promises as fsp, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { hostname } from 'node:os';
import * as path from 'node:path';
import { UserError } from '../util/errors.ts';
import { writeFileAtomic } from '../util/fs.ts';
import { holdStopHandlers, onStop, stopSignal } from '../util/stop.ts';

export interface ClaimRecord {
  stage: string;
  host: string;
  pid: number;
  /** Start time of the process in clock ticks since boot (Linux /proc), null elsewhere. */
  procStart: string | null;
  token: string;
  startedAt: string;
  heartbeatAt: string;
  /** The claim holds until then unless refreshed. */
  expiresAt: string;
  leaseSeconds: number;
  released?: boolean;
}

export interface ClaimFile {
  gen: number;
  file: string;
  /** null: the file exists but is not (yet) readable JSON: its creator is writing it, or died doing so. */
  record: ClaimRecord | null;
  /** mtime, for unreadable claims. */
  mtimeMs: number;
}

export interface Verdict {
  stale: boolean;
  /** Why it is stale, or how alive it looks ("heartbeat 12 s ago"). */
  why: string;
}

/** What the judge may ask of this machine (injected in tests). */
export interface Probe {
  host: string;
  /** true alive, false gone, for a pid on this host. */
  alive: (pid: number) => boolean;
  /** Start ticks of a live pid, or null when unknown. */
  startOf: (pid: number) => string | null;
  /** Tokens of the claims this process holds. */
  ownTokens: ReadonlySet<string>;
  pid: number;
}

/** 6h, 90m, 30s, 1d or a number of seconds → seconds. */
export function parseDuration(text: string, flag = '--lease'): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)?\s*$/.exec(text);
  if (!m) throw new UserError(`${flag} '${text}' should be a duration like 90s, 30m, 6h or 1d`);
  const seconds = Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86400 }[(m[2] ?? 's') as 's' | 'm' | 'h' | 'd'];
  if (!(seconds > 0)) throw new UserError(`${flag} ${text}: must be longer than 0`);
  return seconds;
}

export const DEFAULT_LEASE = '1h';

// Unreadable claim files younger than this are being written by their creator.
const UNREADABLE_GRACE_MS = 60_000;

/** The start time of a process (field 22 of /proc/PID/stat), null where there is no /proc. */
export function processStart(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count fields after the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

/** A zombie (state Z in /proc/PID/stat) is dead: it only waits for a parent (or an init that may never come) to reap it. */
function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return false;
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !isZombie(pid);
  } catch (e) {
    // EPERM: it exists, owned by someone else.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const heldTokens = new Set<string>();
/** Claim files this process holds (for releaseHeldSync). */
const heldFiles = new Map<string, ClaimRecord>();

/**
 * Mark every claim this process holds as released, synchronously: for a SIGTERM handler (a job
 * scheduler's time limit or preemption), so that the next run need not wait for the lease. What the
 * stage left behind stays (training resumes from its last epoch checkpoint).
 */
function releaseHeldSync(): void {
  for (const [file, record] of heldFiles) {
    try {
      writeClaimSync(file, { ...record, released: true, heartbeatAt: new Date().toISOString() });
    } catch {
      // Best effort: the claim then goes stale as usual.
    }
  }
  heldFiles.clear();
}

// A stop (SIGINT, SIGTERM, SIGHUP) frees this process's stages before it exits (src/util/stop.ts).
onStop(releaseHeldSync);

/** What a stopped `eval run` says to do next (the second half of its stop line). */
export const STOP_HINT = 'the stages it held are released: run the same command again to continue (with --resume where training was interrupted)';

/** Told when the heartbeat finds this process's claim taken over (its lease ran out while it was busy). */
export type LostClaimHandler = (stage: string, dir: string, holder: string) => void;
let lostClaimHandler: LostClaimHandler | null = null;

/** A worker stops at once when it loses a claim, instead of working on beside the new holder. */
export function onLostClaim(handler: LostClaimHandler | null): void {
  lostClaimHandler = handler;
}

export function localProbe(): Probe {
  return { host: hostname(), alive: pidAlive, startOf: processStart, ownTokens: heldTokens, pid: process.pid };
}

function ago(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  return s < 120 ? `${s} s` : s < 7200 ? `${Math.round(s / 60)} min` : `${(s / 3600).toFixed(1)} h`;
}

/** Is this claim stale? Pure given the probe and the time. */
export function judgeClaim(c: ClaimFile, nowMs: number, probe: Probe): Verdict {
  const r = c.record;
  if (!r) {
    const age = nowMs - c.mtimeMs;
    return age > UNREADABLE_GRACE_MS ? { stale: true, why: `unreadable claim file, ${ago(age)} old` } : { stale: false, why: 'being created' };
  }
  const beat = `heartbeat ${ago(nowMs - Date.parse(r.heartbeatAt))} ago`;
  if (nowMs > Date.parse(r.expiresAt)) return { stale: true, why: `lease of ${ago(r.leaseSeconds * 1000)} ran out (${beat})` };
  if (r.host === probe.host) {
    if (r.pid === probe.pid && !probe.ownTokens.has(r.token)) return { stale: true, why: `process ${r.pid} on ${r.host} is this one, restarted` };
    if (!probe.alive(r.pid)) return { stale: true, why: `process ${r.pid} on ${r.host} is gone` };
    const now = probe.startOf(r.pid);
    if (r.procStart !== null && now !== null && now !== r.procStart) return { stale: true, why: `process ${r.pid} on ${r.host} is gone (its pid was reused)` };
  }
  return { stale: false, why: beat };
}

const claimName = (stage: string): RegExp => new RegExp(`^${stage.replace(/[^a-z0-9-]/gi, '\\$&')}\\.claim\\.(\\d+)\\.json$`);

export function claimPath(dir: string, stage: string, gen: number): string {
  return path.join(dir, `${stage}.claim.${gen}.json`);
}

/** Replace a claim file through a temporary file beside it (synchronous: signal handlers, heartbeats). */
function writeClaimSync(file: string, record: ClaimRecord): void {
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, `${JSON.stringify(record, null, 2)}\n`);
  renameSync(tmp, file);
}

/** The highest claim generation of `stage` among a folder's file names; null when it was never claimed. */
function latestGeneration(names: readonly string[], stage: string): number | null {
  const re = claimName(stage);
  const gens = names.flatMap((n) => {
    const m = re.exec(n);
    return m ? [Number(m[1])] : [];
  });
  return gens.length === 0 ? null : Math.max(...gens);
}

/** readClaim, synchronously (for the heartbeat). */
function readClaimSync(dir: string, stage: string): ClaimFile | null {
  const gen = latestGeneration(readdirSync(dir), stage);
  if (gen === null) return null;
  const file = claimPath(dir, stage, gen);
  let record: ClaimRecord | null;
  try {
    record = JSON.parse(readFileSync(file, 'utf8')) as ClaimRecord;
  } catch {
    record = null;
  }
  return { gen, file, record, mtimeMs: statSync(file).mtimeMs };
}

/** The current (highest-generation) claim of `stage` in `dir`, or null when it was never claimed. */
export async function readClaim(dir: string, stage: string): Promise<ClaimFile | null> {
  let names: string[];
  try {
    names = await fsp.readdir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  const gen = latestGeneration(names, stage);
  if (gen === null) return null;
  const file = claimPath(dir, stage, gen);
  try {
    const [text, st] = await Promise.all([fsp.readFile(file, 'utf8'), fsp.stat(file)]);
    let record: ClaimRecord | null = null;
    try {
      record = JSON.parse(text) as ClaimRecord;
    } catch {
      record = null;
    }
    return { gen, file, record, mtimeMs: st.mtimeMs };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return readClaim(dir, stage);
    throw e;
  }
}

export interface ClaimOptions {
  leaseSeconds: number;
  /** Take over stale claims. */
  resume: boolean;
  probe?: Probe;
}

export interface HeldClaim {
  record: ClaimRecord;
  gen: number;
  /** True while the current claim is still this one (nobody took it over). */
  stillMine: () => Promise<boolean>;
  /** Stop the heartbeat and free the stage. */
  release: () => Promise<void>;
}

export type ClaimAttempt = { ok: true; claim: HeldClaim } | { ok: false; holder: ClaimFile | null; stale: boolean; why: string };

function newRecord(stage: string, leaseSeconds: number, probe: Probe): ClaimRecord {
  const now = new Date();
  return {
    stage,
    host: probe.host,
    pid: probe.pid,
    procStart: probe.startOf(probe.pid),
    token: randomBytes(8).toString('hex'),
    startedAt: now.toISOString(),
    heartbeatAt: now.toISOString(),
    expiresAt: new Date(now.getTime() + leaseSeconds * 1000).toISOString(),
    leaseSeconds,
  };
}

async function createExclusive(file: string, text: string): Promise<boolean> {
  let fh: FileHandle;
  try {
    fh = await fsp.open(file, 'wx');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
  try {
    await fh.writeFile(text);
    await fh.sync();
  } finally {
    await fh.close();
  }
  return true;
}

/** Heartbeat period: a quarter of the lease, at most a minute, at least 100 ms. */
export function heartbeatMs(leaseSeconds: number): number {
  return Math.max(100, Math.min(60_000, (leaseSeconds * 1000) / 4));
}

function hold(dir: string, stage: string, gen: number, record: ClaimRecord): HeldClaim {
  const file = claimPath(dir, stage, gen);
  heldTokens.add(record.token);
  heldFiles.set(file, record);
  const releaseStopHandlers = holdStopHandlers(STOP_HINT);
  let lost = false;
  const stillMine = async (): Promise<boolean> => {
    if (lost) return false;
    const cur = await readClaim(dir, stage);
    lost = !(cur && cur.gen === gen && cur.record?.token === record.token && !cur.record.released);
    return !lost;
  };
  // Synchronous, in one timer callback: a training loop gives the event loop a turn only between its
  // steps, and an asynchronous beat (a dozen file operations, one per turn) could outlast the lease.
  const beat = (): void => {
    if (lost || stopSignal()) return;
    try {
      const cur = readClaimSync(dir, stage);
      if (!(cur && cur.gen === gen && cur.record?.token === record.token && !cur.record.released)) {
        lost = true;
        clearInterval(timer);
        lostClaimHandler?.(stage, dir, describeHolder(cur, cur ? judgeClaim(cur, Date.now(), localProbe()).why : 'no claim file'));
        return;
      }
      const now = Date.now();
      record.heartbeatAt = new Date(now).toISOString();
      record.expiresAt = new Date(now + record.leaseSeconds * 1000).toISOString();
      writeClaimSync(file, record);
    } catch {
      // A failed beat (a busy file server): the next one tries again.
    }
  };
  const timer = setInterval(beat, heartbeatMs(record.leaseSeconds));
  // The heartbeat alone must not keep a finished process alive.
  timer.unref();
  return {
    record,
    gen,
    stillMine,
    release: async () => {
      clearInterval(timer);
      if (await stillMine()) await writeFileAtomic(file, `${JSON.stringify({ ...record, released: true, heartbeatAt: new Date().toISOString() }, null, 2)}\n`);
      heldTokens.delete(record.token);
      heldFiles.delete(file);
      lost = true;
      releaseStopHandlers();
    },
  };
}

/**
 * Claim `stage` in `dir`: succeeds when nobody holds it, or (with `resume`) when its holder's claim
 * is stale. Otherwise says who holds it and whether that claim is stale.
 */
export async function acquireClaim(dir: string, stage: string, o: ClaimOptions): Promise<ClaimAttempt> {
  const probe = o.probe ?? localProbe();
  await fsp.mkdir(dir, { recursive: true });
  let last: ClaimFile | null = null;
  for (let attempt = 0; attempt < 8; attempt++) {
    const cur = await readClaim(dir, stage);
    last = cur;
    if (cur && !cur.record?.released) {
      const v = judgeClaim(cur, Date.now(), probe);
      if (!v.stale) return { ok: false, holder: cur, stale: false, why: v.why };
      if (!o.resume) return { ok: false, holder: cur, stale: true, why: v.why };
    }
    const gen = (cur?.gen ?? 0) + 1;
    const record = newRecord(stage, o.leaseSeconds, probe);
    if (!(await createExclusive(claimPath(dir, stage, gen), `${JSON.stringify(record, null, 2)}\n`))) continue;
    // Our listing may have been old (a slow directory cache): a higher generation means someone else holds it.
    const after = await readClaim(dir, stage);
    if (after && after.gen > gen) {
      await writeFileAtomic(claimPath(dir, stage, gen), `${JSON.stringify({ ...record, released: true }, null, 2)}\n`);
      continue;
    }
    return { ok: true, claim: hold(dir, stage, gen, record) };
  }
  return { ok: false, holder: last, stale: false, why: 'contended: other processes claimed it at the same moment' };
}

/** "node7 pid 4242 since 2026-12-01T16:40:00Z (heartbeat 12 s ago)" */
export function describeHolder(c: ClaimFile | null, why: string): string {
  if (!c?.record) return `an unknown process (${why})`;
  return `${c.record.host} pid ${c.record.pid} since ${c.record.startedAt} (${why})`;
}
