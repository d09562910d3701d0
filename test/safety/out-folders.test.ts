/**
 * train, eval run and infer refuse `--out /`, the home folder and a folder of someone else's files
 * unless --force, while their own earlier outputs (resume, skip-existing, the committed results/)
 * are recognised. Refusals happen before any write, and each test is built so that a regression
 * fails on a missing input rather than writing to / or $HOME.
 */
import { spawnSync } from 'node:child_process';
import { promises as fsp, readdirSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isResultsEntry } from '../../src/experiments/collect.ts';
import { runExperiment } from '../../src/experiments/run.ts';
import { synthesizeDataset } from '../../src/data/synth.ts';
import { resolveTrainConfig } from '../../src/train/config.ts';
import { train } from '../../src/train/trainer.ts';

let root: string;

beforeAll(async () => {
  root = await fsp.realpath(await fsp.mkdtemp(path.join(os.tmpdir(), 'p2p-outdirs-')));
});
afterAll(async () => {
  await fsp.rm(root, { recursive: true, force: true });
});

describe('train --out', () => {
  const config = (out: string, data = path.join(root, 'no-such-data')) => resolveTrainConfig({ data, out, size: 32, ngf: 4, ndf: 4, epochs: 1, engine: 'cpu' });
  /** A real dataset: the data check passes, so the folder checks after it are reached. */
  const data = (): string => path.join(root, 'data');
  /** A run folder claiming a checkpoint that cannot be read: with --resume, train stops right after the folder checks. */
  const withBadCheckpoint = async (dir: string): Promise<void> => fsp.writeFile(path.join(dir, 'checkpoint.bin'), 'not a checkpoint');

  beforeAll(async () => {
    await synthesizeDataset({ out: data(), count: 3, size: 32, seed: 1 });
  });

  it('refuses / before reading the data, and a folder holding foreign files unless --force', async () => {
    await expect(train(config('/'), { quiet: true })).rejects.toThrow(/^--out \/ is the filesystem root; choose a new or empty folder, or pass --force$/);
    const foreign = path.join(root, 'train-foreign');
    await fsp.mkdir(foreign);
    await fsp.writeFile(path.join(foreign, 'thesis.tex'), 'mine');
    await withBadCheckpoint(foreign);
    await expect(train(config(foreign, data()), { quiet: true, resume: true })).rejects.toThrow(
      /already holds 1 file\(s\) train did not write \(e\.g\. thesis\.tex\)/,
    );
    // Forced, it gets past the folder check to the (unreadable) checkpoint.
    await expect(train(config(foreign, data()), { quiet: true, resume: true, force: true })).rejects.toThrow(/checkpoint/i);
  });

  it('refuses a run folder whose samples/ is a symlink leading out of it', async () => {
    const dir = path.join(root, 'train-linked');
    await fsp.mkdir(path.join(root, 'train-elsewhere'));
    await fsp.mkdir(dir);
    await fsp.symlink(path.join(root, 'train-elsewhere'), path.join(dir, 'samples'));
    await expect(train(config(dir, data()), { quiet: true })).rejects.toThrow(/it resolves \(through a symlink\) to \S+train-elsewhere/);
  });

  it('accepts a run folder of its own (checkpoint, losses, samples, exported model) so --resume works', async () => {
    const own = path.join(root, 'train-own');
    await fsp.mkdir(path.join(own, 'samples'), { recursive: true });
    for (const f of ['config.json', 'losses.csv', 'model.onnx', '.checkpoint.bin.tmp-4194400-1-0']) await fsp.writeFile(path.join(own, f), '');
    await withBadCheckpoint(own);
    await expect(train(config(own, data()), { quiet: true, resume: true })).rejects.toThrow(/checkpoint/i);
    // The stale checkpoint temporary of a killed run is gone.
    expect(readdirSync(own).sort()).toEqual(['checkpoint.bin', 'config.json', 'losses.csv', 'model.onnx', 'samples']);
  });

  it('creates nothing when the data is missing', async () => {
    const out = path.join(root, 'train-new');
    await expect(train(config(out), { quiet: true })).rejects.toThrow(/no-such-data/);
    await expect(fsp.stat(out)).rejects.toThrow(/ENOENT/);
  });
});

describe('eval run --out', () => {
  it('refuses / before reading any data', async () => {
    const file = path.join(root, 'exp.yaml');
    await fsp.writeFile(
      file,
      `experiment: e\ntitle: t\ntable: Figure 7\ntask: color\ndataset: { path: ${path.join(root, 'no-such-data')} }\nvariants:\n  - { name: gt, kind: ground-truth }\nprofiles:\n  quick: {}\n`,
    );
    await expect(runExperiment({ file, profile: 'quick', out: '/', log: () => {} })).rejects.toThrow(/^--out \/ is the filesystem root/);
    const foreign = path.join(root, 'results-foreign');
    await fsp.mkdir(foreign);
    await fsp.writeFile(path.join(foreign, 'notes.txt'), 'mine');
    await expect(runExperiment({ file, profile: 'quick', out: foreign, log: () => {} })).rejects.toThrow(
      /already holds 1 file\(s\) eval run did not write \(e\.g\. notes\.txt\)/,
    );
    // With --force it gets past the folder check, to the dataset preflight.
    await expect(runExperiment({ file, profile: 'quick', out: foreign, force: true, log: () => {} })).rejects.toThrow(/no-such-data: folder not found/);
    // A symlink already in --out that leads elsewhere is refused before any work.
    const linked = path.join(root, 'results-linked');
    await fsp.mkdir(path.join(root, 'scratch'));
    await fsp.mkdir(linked);
    await fsp.symlink(path.join(root, 'scratch'), path.join(linked, '_work'));
    await expect(runExperiment({ file, profile: 'quick', out: linked, log: () => {} })).rejects.toThrow(
      /^refusing to write \S+_work: it resolves \(through a symlink\) to \S+scratch, outside \S+results-linked$/,
    );
  });

  it("recognises every entry of the repository's results/ folder as its own", () => {
    const dir = path.resolve('results');
    const names = readdirSync(dir);
    expect(names.length).toBeGreaterThan(0);
    expect(names.filter((n) => !isResultsEntry(n, new Set(names)))).toEqual([]);
    expect(isResultsEntry('thesis.tex', new Set(['thesis.tex']))).toBe(false);
    expect(isResultsEntry('photos', new Set(['photos']))).toBe(false);
  });
});

describe('the CLI', () => {
  it('infer with an output aliasing the input exits 2 with one line', async () => {
    const input = path.join(root, 'cli-in');
    await fsp.mkdir(input);
    await fsp.symlink(input, path.join(root, 'cli-alias'));
    const r = spawnSync(
      process.execPath,
      ['bin/pix2pix.mjs', 'infer', '--model', path.join(root, 'none.onnx'), '--input', input, '--output', path.join(root, 'cli-alias')],
      { encoding: 'utf8' },
    );
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^pix2pix: --output \S+ must differ from --input \S+ \(both are \S+cli-in\): outputs would overwrite the sources\n$/);
  });
});
