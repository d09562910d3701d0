/**
 * The six classes of defect of issue "Nothing lost, nothing written where it should not be", each
 * reproduced through the public entry points (translateFolder, openSession, the experiment runner
 * and reader), so these tests failed on the code before the fix.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportConvNetOnnx, generatorSpec } from '../../src/export/export.ts';
import { generatorArch } from '../../src/nets/arch.ts';
import { ONNX_FLOAT, ONNX_INT64, type OnnxTensor } from '../../src/onnx/proto.ts';
import { parseExperiment, readExperiment } from '../../src/experiments/schema.ts';
import { runExperiment } from '../../src/experiments/run.ts';
import { type ModelSession, openSession } from '../../src/runtime/session.ts';
import { outputNames, translateFolder, type TranslateOptions } from '../../src/runtime/translate.ts';
import { randomParams } from '../export/fixtures.ts';
import { int64s, xyModel } from '../helpers/onnx-model.ts';

const SIZE = 32;
let root: string;
let modelFile: string;
let session: ModelSession;

/** A SIZE² noise image, distinct per seed, as PNG or JPEG (by the format given). */
async function noiseImage(file: string, seed: number, format: 'png' | 'jpeg' = 'png'): Promise<void> {
  const px = new Uint8Array(SIZE * SIZE * 3).map((_, k) => (k * 7 + seed * 31) % 256);
  await fsp.mkdir(path.dirname(file), { recursive: true });
  await sharp(px, { raw: { width: SIZE, height: SIZE, channels: 3 } })
    .toFormat(format)
    .toFile(file);
}

/** Every file below `dir` (no dotfiles), '/'-separated, sorted. */
async function filesBelow(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await fsp.readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile() && !e.name.startsWith('.')) out.push(path.relative(dir, path.join(e.parentPath, e.name)).split(path.sep).join('/'));
  }
  return out.sort();
}

const run = (o: Omit<TranslateOptions, 'model'>): ReturnType<typeof translateFolder> => translateFolder({ model: session, quiet: true, ...o });

beforeAll(async () => {
  root = await fsp.realpath(await fsp.mkdtemp(path.join(os.tmpdir(), 'p2p-safety-')));
  const arch = generatorArch({ depth: 5, ngf: 2 });
  modelFile = path.join(root, 'g.onnx');
  await fsp.writeFile(modelFile, exportConvNetOnnx(generatorSpec(arch, randomParams(arch, 1), { image_size: String(SIZE), size_multiple: '32' })));
  session = await openSession(modelFile, { provider: 'cpu', threads: 1 });
});

afterAll(async () => {
  await session?.close();
  await fsp.rm(root, { recursive: true, force: true });
});

describe('1. inputs are never overwritten', () => {
  it('refuses an output folder that is a symlink to the input folder, leaving the sources untouched', async () => {
    const input = path.join(root, 'd1-in');
    await noiseImage(path.join(input, 'a.png'), 1);
    const before = await fsp.readFile(path.join(input, 'a.png'));
    const alias = path.join(root, 'd1-alias');
    await fsp.symlink(input, alias);
    await expect(run({ input, output: alias })).rejects.toThrow(
      /^--output \S+ must differ from --input .* \(both are .*d1-in\): outputs would overwrite the sources$/,
    );
    expect(Buffer.compare(await fsp.readFile(path.join(input, 'a.png')), before)).toBe(0);
  });

  it('refuses an output inside the input with --recursive, and an input inside the output', async () => {
    const input = path.join(root, 'd1-tree');
    await noiseImage(path.join(input, 'a.png'), 2);
    await expect(run({ input, output: path.join(input, 'out'), recursive: true })).rejects.toThrow(
      /lies inside --input .* --recursive would read the outputs back/,
    );
    await expect(run({ input, output: root })).rejects.toThrow(/--input \S+ lies inside --output/);
    expect(await filesBelow(input)).toEqual(['a.png']);
  });
});

describe('2. no output is silently lost', () => {
  it('a.png, a.jpg and a_png.png give three files, and the summary counts files written', async () => {
    const input = path.join(root, 'd2-in');
    await noiseImage(path.join(input, 'a.png'), 1);
    await noiseImage(path.join(input, 'a.jpg'), 2, 'jpeg');
    await noiseImage(path.join(input, 'a_png.png'), 3);
    const output = path.join(root, 'd2-out');
    const r = await run({ input, output });
    const files = await filesBelow(output);
    expect(files.length).toBe(3);
    expect(r.translated).toBe(files.length);
  });

  it('the name mapping is injective even across case (A.png / a.png) and across the renamed names', () => {
    const inputs = ['A.png', 'a.jpg', 'a.png', 'a_png.png', 'a_PNG.png', 'b/x.tif', 'B/x.png', 'c.png'];
    const names = [...outputNames(inputs, 'png').values()];
    expect(new Set(names.map((n) => n.toLowerCase())).size).toBe(inputs.length);
    // A name nobody competes for is kept as it is.
    expect(outputNames(inputs, 'png').get('c.png')).toBe('c.png');
  });
});

describe('3. nothing is written outside --out by eval run', () => {
  it('a testSplit that climbs out of the dataset does not make eval run create folders beside it', { timeout: 120_000 }, async () => {
    const base = path.join(root, 'd3');
    const data = path.join(base, 'x1', 'x2', 'x3', 'data');
    const split = path.join(base, 'elsewhere', 'test');
    await fsp.mkdir(data, { recursive: true });
    for (let i = 0; i < 2; i++) {
      const ab = new Uint8Array(2 * SIZE * SIZE * 3).map((_, k) => (k * 3 + i * 40) % 256);
      await fsp.mkdir(split, { recursive: true });
      await sharp(ab, { raw: { width: 2 * SIZE, height: SIZE, channels: 3 } })
        .png()
        .toFile(path.join(split, `p${i}.png`));
    }
    const file = path.join(base, 'exp.yaml');
    await fsp.writeFile(
      file,
      `experiment: d3
title: escape check
table: Figure 7
task: labels2photo
dataset: { path: ${data}, testSplit: ../../../../elsewhere/test }
train: { size: ${SIZE} }
scorer: { bins: 8 }
variants:
  - { name: gt, kind: ground-truth }
profiles:
  quick: {}
`.replace('task: labels2photo', 'task: color'),
    );
    const out = path.join(base, 'out');
    const before = (await fsp.readdir(path.join(base, 'elsewhere'))).sort();
    await runExperiment({ file, profile: 'quick', out, jobs: 1, log: () => {} });
    expect((await fsp.readdir(path.join(base, 'elsewhere'))).sort()).toEqual(before);
    expect((await fsp.readdir(base)).sort()).toEqual(['elsewhere', 'exp.yaml', 'out', 'x1']);
  });
});

describe('4. --recursive and symlinked folders', () => {
  it('a loop back to the input is listed once and reported once', async () => {
    const input = path.join(root, 'd4-one');
    for (let i = 0; i < 3; i++) await noiseImage(path.join(input, `i${i}.png`), i);
    await fsp.symlink('.', path.join(input, 'loop'));
    const r = await run({ input, output: path.join(root, 'd4-one-out'), recursive: true });
    expect(r.translated).toBe(3);
    expect(await filesBelow(path.join(root, 'd4-one-out'))).toEqual(['i0.png', 'i1.png', 'i2.png']);
    expect(r.failed.map((f) => f.file)).toEqual(['loop/']);
    expect(r.failed[0].reason).toMatch(/loop/);
  });

  it('two loops finish', { timeout: 30_000 }, async () => {
    const input = path.join(root, 'd4-two');
    await noiseImage(path.join(input, 'sub', 'i.png'), 1);
    await fsp.symlink('..', path.join(input, 'sub', 'up'));
    await fsp.symlink('.', path.join(input, 'here'));
    const r = await run({ input, output: path.join(root, 'd4-two-out'), recursive: true });
    expect(r.translated).toBe(1);
    expect(r.failed.map((f) => f.file).sort()).toEqual(['here/', 'sub/up/']);
  });
});

// ------------------------------------------------------------------------------------------------
// 5. Models that would allocate without bound

function tensor(name: string, dataType: number, dims: number[], raw: Uint8Array): OnnxTensor {
  return { name, dataType, dims, rawData: raw };
}

/** x + ConstantOfShape(shape) broadcast to [1, 3, 32, 32]-ish: a model whose constant folding allocates `elements` floats. */
function constantOfShapeModel(elements: number): Uint8Array {
  return xyModel(SIZE, {
    graphName: 'bomb',
    nodes: [
      { name: 'big', opType: 'ConstantOfShape', input: ['shape'], output: ['zeros'], attribute: [] },
      { name: 'sum', opType: 'ReduceSum', input: ['zeros'], output: ['s'], attribute: [{ name: 'keepdims', type: 2, i: 0 }] },
      { name: 'add', opType: 'Add', input: ['x', 's'], output: ['y'], attribute: [] },
    ],
    initializers: [tensor('shape', ONNX_INT64, [1], int64s([elements]))],
  });
}

/** x + w where w's data lives in a (sparse) external file of `bytes` bytes. */
function externalDataModel(bytes: number, location: string): Uint8Array {
  const n = bytes / 4;
  const w: OnnxTensor = {
    name: 'w',
    dataType: ONNX_FLOAT,
    dims: [n],
    rawData: new Uint8Array(0),
    dataLocation: 1,
    externalData: [
      { key: 'location', value: location },
      { key: 'offset', value: '0' },
      { key: 'length', value: String(bytes) },
    ],
  };
  return xyModel(SIZE, {
    graphName: 'ext',
    nodes: [
      { name: 'sum', opType: 'ReduceSum', input: ['w'], output: ['s'], attribute: [{ name: 'keepdims', type: 2, i: 0 }] },
      { name: 'add', opType: 'Add', input: ['x', 's'], output: ['y'], attribute: [] },
    ],
    initializers: [w],
  });
}

/** Open `file` in a child process; returns its one-line outcome and its peak RSS growth in MiB. */
function openInChild(file: string, maxModelMemory?: number): { line: string; rssGrowthMiB: number } {
  const script = `
    import { openSession } from ${JSON.stringify(path.resolve('src/runtime/session.ts'))};
    // Peak RSS (getrusage), which also sees allocations made while the native call blocks the thread.
    const base = process.resourceUsage().maxRSS * 1024;
    let line;
    try { const s = await openSession(${JSON.stringify(file)}, { provider: 'cpu', threads: 1${maxModelMemory ? `, maxModelMemory: ${maxModelMemory}` : ''} }); line = 'opened'; await s.close(); }
    catch (e) { line = (e.name === 'UserError' ? 'UserError: ' : 'Error: ') + e.message; }
    const peak = process.resourceUsage().maxRSS * 1024;
    process.stdout.write(JSON.stringify({ line, rssGrowthMiB: (peak - base) / 2 ** 20 }));
  `;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`child failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as { line: string; rssGrowthMiB: number };
}

describe('5. a model file cannot take the machine', () => {
  it('a ConstantOfShape of 2^28 floats (1 GiB) is refused under a 256 MiB bound before any allocation', { timeout: 120_000 }, async () => {
    const file = path.join(root, 'bomb.onnx');
    await fsp.writeFile(file, constantOfShapeModel(2 ** 28));
    const r = openInChild(file, 256 * 2 ** 20);
    expect(r.line).toMatch(
      /^UserError: model .*bomb\.onnx refused: node 'big' \(ConstantOfShape\) would allocate 1\.0 GiB \(268435456 elements\) \(over --max-model-memory 256\.0 MiB/,
    );
    expect(r.rssGrowthMiB).toBeLessThan(200);
  });

  it('the 10 GiB ConstantOfShape([2684354560]) of the report is refused with the default bound', async () => {
    const file = path.join(root, 'bomb10.onnx');
    await fsp.writeFile(file, constantOfShapeModel(2684354560));
    await expect(openSession(file, { provider: 'cpu', threads: 1 })).rejects.toThrow(/ConstantOfShape\) would allocate 10\.0 GiB/);
  });

  it('a 1 GiB sparse external-data file beside a model is refused under a 256 MiB bound, without reading it', { timeout: 120_000 }, async () => {
    const dir = path.join(root, 'ext');
    await fsp.mkdir(dir);
    const fh = await fsp.open(path.join(dir, 'w.bin'), 'w');
    await fh.truncate(2 ** 30);
    await fh.close();
    await fsp.writeFile(path.join(dir, 'ext.onnx'), externalDataModel(2 ** 30, 'w.bin'));
    const r = openInChild(path.join(dir, 'ext.onnx'), 256 * 2 ** 20);
    expect(r.line).toMatch(/^UserError: model .*ext\.onnx refused: initializer 'w' declares 1\.0 GiB/);
    expect(r.rssGrowthMiB).toBeLessThan(200);
  });
});

// ------------------------------------------------------------------------------------------------

describe('6. smaller defects', () => {
  it('a 2 MB experiment file is refused in one line (size cap 1 MB)', async () => {
    const file = path.join(root, 'big.yaml');
    await fsp.writeFile(file, `experiment: x\ndescription: "${'y'.repeat(2_000_000)}"\n`);
    await expect(readExperiment(file)).rejects.toThrow(/^\S+big\.yaml: the experiment file is 1\.9 MiB; experiment files are limited to 1\.0 MiB$/);
  });

  it('a YAML alias bomb is a one-line "too many aliases" UserError', () => {
    const levels = ['a: &a [x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 9; i++)
      levels.push(
        `${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9)
          .fill(`*${String.fromCharCode(96 + i)}`)
          .join(', ')}]`,
      );
    let err: unknown;
    try {
      parseExperiment(`${levels.join('\n')}\n`, 'bomb.yaml');
    } catch (e) {
      err = e;
    }
    expect((err as Error).name).toBe('UserError');
    expect((err as Error).message).toMatch(/^bomb\.yaml:\d+: too many aliases/);
    expect((err as Error).message).not.toContain('\n');
  });

  it("stale temporary files of killed runs are removed at start; a live writer's and foreign dotfiles are kept", async () => {
    const input = path.join(root, 'd6t-in');
    await noiseImage(path.join(input, 'a.png'), 1);
    const output = path.join(root, 'd6t-out');
    await fsp.mkdir(output);
    // A PID that cannot be running: above the kernel's pid_max.
    const deadPid = 4_194_304 + 17;
    const stale = path.join(output, `.a.png.tmp-${deadPid}-1700000000000-0`);
    const live = path.join(output, `.b.png.tmp-${process.pid}-${Date.now()}-0`);
    const foreign = path.join(output, '.keep.tmp-notours');
    for (const f of [stale, live, foreign]) await fsp.writeFile(f, 'x');
    await run({ input, output });
    const left = (await fsp.readdir(output)).sort();
    expect(left).toEqual([path.basename(foreign), path.basename(live), 'a.png'].sort());
  });

  it('symlink loops, dangling links, FIFOs and folders named x.png are each reported and count as failures', async () => {
    const input = path.join(root, 'd6-odd');
    await noiseImage(path.join(input, 'good.png'), 1);
    await fsp.symlink('self.png', path.join(input, 'self.png'));
    await fsp.symlink('missing.png', path.join(input, 'dangling.png'));
    execFileSync('mkfifo', [path.join(input, 'pipe.png')]);
    await fsp.mkdir(path.join(input, 'folder.png'));
    const r = await run({ input, output: path.join(root, 'd6-odd-out') });
    expect(r.translated).toBe(1);
    const reasons = Object.fromEntries(r.failed.map((f) => [f.file, f.reason]));
    expect(Object.keys(reasons).sort()).toEqual(['dangling.png', 'folder.png', 'pipe.png', 'self.png']);
    expect(reasons['self.png']).toMatch(/symlink loop/);
    expect(reasons['dangling.png']).toMatch(/dangling link/);
    expect(reasons['pipe.png']).toMatch(/not a regular file \(a FIFO\)/);
    expect(reasons['folder.png']).toMatch(/not a regular file \(a folder\)/);
    expect(r.total).toBe(5);
  });

  // root reads any file, so as root the check runs as the unprivileged user nobody in a child process;
  // that needs nobody to be able to read this checkout (not the case under a 0700 /root).
  const asRoot = process.getuid?.() === 0;
  const nobodyCanRun =
    !asRoot ||
    spawnSync(
      process.execPath,
      [
        '-e',
        `require('fs').accessSync(${JSON.stringify(path.resolve('node_modules/tsx/package.json'))}); require('fs').accessSync(${JSON.stringify(path.resolve('src/runtime/images.ts'))})`,
      ],
      { uid: 65534, gid: 65534 },
    ).status === 0;
  it.skipIf(!nobodyCanRun)(
    'an unreadable file is reported as "permission denied", not "not an image" (skipped only as root when user nobody cannot read this checkout)',
    async () => {
      const dir = path.join(root, 'd6-perm');
      await noiseImage(path.join(dir, 'secret.png'), 1);
      await fsp.chmod(path.join(dir, 'secret.png'), 0o000);
      const script = `import { prepareImage } from ${JSON.stringify(path.resolve('src/runtime/images.ts'))};
      prepareImage(${JSON.stringify(path.join(dir, 'secret.png'))}, 8).then(() => console.log('read'), (e) => console.log(e.message));`;
      if (asRoot) {
        await fsp.chmod(root, 0o755);
        await fsp.chmod(dir, 0o755);
      }
      const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
        encoding: 'utf8',
        cwd: process.cwd(),
        ...(asRoot ? { uid: 65534, gid: 65534, env: { ...process.env, HOME: '/tmp' } } : {}),
      });
      expect(r.stderr).toBe('');
      expect(r.stdout.trim()).toBe('permission denied');
    },
  );

  it("onnxruntime's refusal of a model names the model's problem, not the installation", async () => {
    const file = path.join(root, 'unknown-op.onnx');
    await fsp.writeFile(file, xyModel(SIZE, { nodes: [{ name: 'n', opType: 'NoSuchOperator', input: ['x'], output: ['y'], attribute: [] }] }));
    for (const provider of ['cpu', 'auto'] as const) {
      const e = await openSession(file, { provider, threads: 1 }).then(
        () => undefined,
        (x: unknown) => x as Error,
      );
      expect(e?.name).toBe('UserError');
      expect(e?.message).toMatch(/unknown-op\.onnx: .*NoSuchOperator/);
      expect(e?.message).not.toMatch(/npm ci|installed/);
    }
  });

  it('infer refuses --output /, the home folder and a folder of foreign files unless --force', async () => {
    // An input without images: should the refusal regress, nothing is written to /.
    const empty = path.join(root, 'd6o-empty');
    await fsp.mkdir(empty);
    await expect(run({ input: empty, output: '/' })).rejects.toThrow(/^--output \/ is the filesystem root; choose a new or empty folder, or pass --force$/);
    const input = path.join(root, 'd6o-in');
    await noiseImage(path.join(input, 'a.png'), 1);
    const home = path.join(root, 'd6o-home');
    await fsp.mkdir(home);
    const savedHome = process.env.HOME;
    process.env.HOME = home;
    try {
      await expect(run({ input, output: home })).rejects.toThrow(/is your home folder/);
    } finally {
      process.env.HOME = savedHome;
    }
    const foreign = path.join(root, 'd6o-foreign');
    await fsp.mkdir(foreign);
    await fsp.writeFile(path.join(foreign, 'thesis.tex'), 'mine');
    await expect(run({ input, output: foreign })).rejects.toThrow(/already holds 1 file\(s\) infer did not write \(e\.g\. thesis\.tex\)/);
    const forced = await run({ input, output: foreign, force: true });
    expect(forced.translated).toBe(1);
    expect(await fsp.readFile(path.join(foreign, 'thesis.tex'), 'utf8')).toBe('mine');
    // Its own earlier outputs do not count as foreign: re-running and --skip-existing still work.
    const again = await run({ input, output: path.join(root, 'd2-out-again') });
    expect(again.translated).toBe(1);
    const resumed = await run({ input, output: path.join(root, 'd2-out-again'), skipExisting: true });
    expect([resumed.translated, resumed.skipped]).toEqual([0, 1]);
  });
});
