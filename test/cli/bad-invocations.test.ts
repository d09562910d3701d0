/**
 * The bad-invocation table: wrong, mistyped and PyTorch-style command lines a new user types, each
 * answered by one line saying what to do and a non-zero exit status, with nothing created. The table
 * in docs/errors.md is generated from these rows (`UPDATE_DOCS=1 npx vitest run
 * test/cli/bad-invocations.test.ts` rewrites it); the test fails while the doc is stale.
 */
import { mkdir, mkdtemp, readdir, readFile, realpath, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runCli } from '../helpers/capture.ts';

interface Row {
  /** The command line after `pix2pix`, run in a folder holding data/ (a tiny synthetic dataset), a-file and full/. */
  args: string;
  /** The error line must match this (checked here, whatever the doc says). */
  says: RegExp;
  code: number;
}

const ROWS: Row[] = [
  { args: 'bogus', says: /^Unknown argument: bogus$/, code: 2 },
  { args: 'trian --data data --out runs/x', says: /^Did you mean train\?$/, code: 2 },
  { args: 'eval', says: /^eval needs a sub-command/, code: 2 },
  { args: 'eval run', says: /^eval run is missing its argument/, code: 2 },
  { args: 'train --data data --out runs/x --bogus-flag 1', says: /^Unknown argument: --bogus-flag$/, code: 2 },
  { args: 'train --data data --out runs/x --batch_sise 2', says: /\(did you mean --batch-size\?\)$/, code: 2 },
  { args: 'infer --model m.onnx --input data/test --out out --outptu x', says: /\(did you mean --out\?\)$/, code: 2 },
  { args: 'train --data data --out runs/x --norm weird', says: /^--norm must be one of batch, instance \(got weird\)$/, code: 2 },
  { args: 'train --data data --out runs/x --batch_size 0', says: /^--batch_size must be an integer ≥ 1 \(got 0\)$/, code: 2 },
  { args: 'train --data data --out runs/x --epochs 3 --n-epochs 1', says: /not both$/, code: 2 },
  { args: 'train --data missing --out runs/x', says: /missing/, code: 2 },
  { args: 'train --data data --out runs/x --resume', says: /^--resume: no checkpoint.bin in runs\/x to resume from$/, code: 2 },
  { args: 'train --data data --out runs/x --continue_train', says: /^--continue_train: no checkpoint.bin in runs\/x/, code: 2 },
  { args: 'train --dataroot data', says: /^Missing required argument: --out \(or the PyTorch repo's --name\)$/, code: 2 },
  { args: 'train --dataroot data --checkpoints_dir runs', says: /^--checkpoints_dir needs --name/, code: 2 },
  { args: 'train --dataroot data --out runs/x --name x', says: /^--name stands for --out here: give one of them$/, code: 2 },
  { args: 'train --dataroot data --name x --model cycle_gan', says: /^--model cycle_gan: not implemented/, code: 2 },
  { args: 'train --dataroot data --name x --dataset_mode unaligned', says: /^--dataset_mode unaligned: not implemented/, code: 2 },
  { args: 'train --dataroot data --name x --netG resnet_9blocks', says: /^--netG resnet_9blocks: ResNet generators are not implemented/, code: 2 },
  { args: 'train --dataroot data --name x --preprocess scale_width', says: /^--preprocess scale_width: not implemented/, code: 2 },
  { args: 'train --dataroot data --name x --gan_mode wgangp', says: /^--gan_mode wgangp: not implemented/, code: 2 },
  { args: 'train --dataroot data --name x --phase val', says: /^--phase val: training reads DATA\/train here/, code: 2 },
  { args: 'train --dataroot data --name x --gpu_ids 0 --engine wasm', says: /^--gpu_ids stands for --engine here/, code: 2 },
  { args: 'test --dataroot data --name x --model pix2pix --direction BtoA', says: /^test.py is two commands here: pix2pix export/, code: 2 },
  { args: 'infer --model m.onnx --input data/test --out out --eval', says: /^--eval: normalisation is fixed when the model is made here/, code: 2 },
  { args: 'infer --model m.onnx --input data/test --out out --preprocess scale_width', says: /^--preprocess scale_width: not implemented/, code: 2 },
  { args: 'data synth --out a-file', says: /^--out a-file is a file, not a folder/, code: 2 },
  { args: 'data synth --out full', says: /pass --force to replace a synthetic dataset there\.$/, code: 2 },
  { args: 'data synth --out new --splits 1,2', says: /^--splits must be three non-negative numbers/, code: 2 },
  { args: 'eval labels --pred p --labels l --void-colors grey', says: /^--void-colors must be one of none, black, all \(got grey\)$/, code: 2 },
  { args: 'eval rf --rf 71', says: /^--rf is not a PatchGAN receptive field/, code: 2 },
  { args: 'serve --model m.onnx --port 70000', says: /^--port must be an integer from 0 to 65535 \(got 70000\)$/, code: 2 },
];

const DOC = path.resolve(import.meta.dirname, '../../docs/errors.md');

let dir = '';
const cwd = process.cwd();
const results: { row: Row; message: string; code: number | undefined }[] = [];

async function listing(root: string): Promise<string[]> {
  return (await readdir(root, { recursive: true })).sort();
}

/** The error line: the last `pix2pix: ` line (notes on PyTorch flags may come before it). */
function errorLine(stderr: string): string {
  const lines = stderr.split('\n').filter((l) => l.startsWith('pix2pix: '));
  return (lines.at(-1) ?? '').slice('pix2pix: '.length);
}

function markdown(): string {
  const cell = (s: string): string => s.replace(/\|/g, '\\|');
  return [
    '# Bad invocations and what they print',
    '',
    '<!-- Generated by test/cli/bad-invocations.test.ts (UPDATE_DOCS=1 to rewrite); do not edit by hand. -->',
    '',
    'Each of these command lines prints one line on stderr (after `pix2pix: `) and exits with the code',
    'shown, and creates nothing. Usage errors add a line pointing to `--help`. They run in a folder',
    'holding `data/` (a small synthetic dataset), a file `a-file` and a non-empty folder `full/`.',
    '',
    '| command | message | exit code |',
    '|---|---|---|',
    ...results.map((r) => `| \`pix2pix ${cell(r.row.args)}\` | ${cell(r.message)} | ${r.code ?? 0} |`),
    '',
  ].join('\n');
}

describe('bad invocations', () => {
  beforeAll(async () => {
    dir = await realpath(await mkdtemp(path.join(tmpdir(), 'p2p-bad-')));
    process.chdir(dir);
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const synth = await runCli(['data', 'synth', '--out', 'data', '--count', '3', '--size', '8', '--quiet']);
    expect(synth.code ?? 0, synth.stderr).toBe(0);
    await writeFile('a-file', 'x');
    await mkdir('full');
    await writeFile('full/notes.txt', 'x');
  });

  afterAll(() => {
    process.chdir(cwd);
    vi.restoreAllMocks();
  });

  it.each(ROWS)('pix2pix $args', async (row) => {
    const before = await listing(dir);
    const r = await runCli(row.args.split(' '));
    const message = errorLine(r.stderr)
      .split(dir + path.sep)
      .join('');
    expect(message, r.stderr).toMatch(row.says);
    expect(r.code).toBe(row.code);
    expect(await listing(dir), 'a failed command created something').toEqual(before);
    results.push({ row, message, code: r.code });
  });

  it('docs/errors.md is the table these rows print', async () => {
    expect(results).toHaveLength(ROWS.length);
    const text = markdown();
    if (process.env.UPDATE_DOCS) await writeFile(DOC, text);
    const doc = await readFile(DOC, 'utf8').catch(() => '');
    expect(doc, 'docs/errors.md is stale: UPDATE_DOCS=1 npx vitest run test/cli/bad-invocations.test.ts').toBe(text);
  });
});
