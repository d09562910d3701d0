/**
 * The CLI loads a command's module only when that command runs: `pix2pix --help`, `infer` and
 * `eval fcn-score` must never reach tfjs. Checked twice: by walking the import graph of the sources
 * from the entry (every path, taken or not), and by running the CLI with a resolve hook that records
 * every module the process actually loads.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { writeImage } from '../../src/data/image.ts';
import { exportConvNetOnnx, generatorSpec } from '../../src/export/export.ts';
import { generatorArch } from '../../src/nets/arch.ts';
import { randomParams } from '../export/fixtures.ts';
import { writeFcnScoreCase } from '../eval/tiny-segmenter.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const ENTRY = path.join(ROOT, 'bin/pix2pix.mjs');

interface Found {
  spec: string;
  dynamic: boolean;
  /** First words of the yargs `command:` strings of the objects the import sits in (innermost first). */
  commands: string[];
}

/** The command an object literal defines: `command: 'run <file>'` → run; `...entry('train')` → train. */
function commandOf(o: ts.ObjectLiteralExpression): string | undefined {
  for (const p of o.properties) {
    if (ts.isPropertyAssignment(p) && p.name.getText() === 'command' && ts.isStringLiteralLike(p.initializer)) return p.initializer.text.split(' ')[0];
    if (ts.isSpreadAssignment(p) && ts.isCallExpression(p.expression) && p.expression.expression.getText() === 'entry') {
      const arg = p.expression.arguments[0];
      if (arg && ts.isStringLiteralLike(arg)) return arg.text;
    }
  }
  return undefined;
}

/** Imports that exist at run time: type-only imports and exports are erased, so they are skipped. */
function runtimeImports(file: string): Found[] {
  const text = readFileSync(file, 'utf8');
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, file.endsWith('.ts') ? ts.ScriptKind.TS : ts.ScriptKind.JS);
  const found: Found[] = [];
  const visit = (n: ts.Node): void => {
    if (ts.isImportDeclaration(n) && ts.isStringLiteralLike(n.moduleSpecifier)) {
      const c = n.importClause;
      const typeOnly =
        c !== undefined &&
        (c.isTypeOnly ||
          (!c.name &&
            c.namedBindings !== undefined &&
            ts.isNamedImports(c.namedBindings) &&
            c.namedBindings.elements.length > 0 &&
            c.namedBindings.elements.every((e) => e.isTypeOnly)));
      if (!typeOnly) found.push({ spec: n.moduleSpecifier.text, dynamic: false, commands: [] });
    } else if (ts.isExportDeclaration(n) && n.moduleSpecifier && ts.isStringLiteralLike(n.moduleSpecifier) && !n.isTypeOnly) {
      found.push({ spec: n.moduleSpecifier.text, dynamic: false, commands: [] });
    } else if (ts.isCallExpression(n) && n.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const arg = n.arguments[0];
      const commands: string[] = [];
      for (let p: ts.Node | undefined = n.parent; p; p = p.parent) {
        const c = ts.isObjectLiteralExpression(p) ? commandOf(p) : undefined;
        if (c) commands.push(c);
      }
      // A computed specifier cannot be followed: report it so that the walk never passes by not looking.
      found.push({ spec: arg && ts.isStringLiteralLike(arg) ? arg.text : `<computed: ${n.getText()}>`, dynamic: true, commands });
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return found;
}

/**
 * Every module reachable from the CLI entry when running `words` (e.g. ['eval', 'fcn-score']):
 * static imports always, dynamic imports unless they sit in the definition of another command.
 * Returns the bare (package) specifiers reached, with the file that imports each.
 */
function reachablePackages(words: string[]): { packages: Map<string, string>; files: Set<string> } {
  const files = new Set<string>();
  const packages = new Map<string, string>();
  const visit = (file: string): void => {
    if (files.has(file)) return;
    files.add(file);
    for (const imp of runtimeImports(file)) {
      if (imp.dynamic && imp.commands.some((c) => !words.includes(c))) continue;
      // The bin runs dist/ only in an installed package: the compiled twin of the sources walked here.
      if (imp.spec.startsWith('../dist/')) continue;
      if (imp.spec.startsWith('.')) visit(path.resolve(path.dirname(file), imp.spec));
      else if (!imp.spec.startsWith('node:')) packages.set(imp.spec, path.relative(ROOT, file));
    }
  };
  visit(ENTRY);
  return { packages, files };
}

const offending = (packages: Map<string, string>): string[] =>
  [...packages].filter(([p]) => p.startsWith('@tensorflow/') || p.startsWith('<computed')).map(([p, f]) => `${f} → ${p}`);

describe('the CLI loads only the command it runs (import graph)', () => {
  for (const words of [[], ['infer'], ['eval', 'fcn-score']]) {
    it(`pix2pix ${words.join(' ') || '--help'} never reaches tfjs`, () => {
      const { packages, files } = reachablePackages(words);
      expect(offending(packages)).toEqual([]);
      expect(files.has(path.join(ROOT, 'src/cli/main.ts'))).toBe(true);
      if (words[0] === 'infer') expect(files.has(path.join(ROOT, 'src/runtime/translate.ts'))).toBe(true);
      if (words[1] === 'fcn-score') expect(files.has(path.join(ROOT, 'src/eval/fcn-score.ts'))).toBe(true);
    });
  }

  it('does reach tfjs for train and eval run (the walk follows the lazy imports)', () => {
    expect(offending(reachablePackages(['train']).packages).join('\n')).toMatch(/@tensorflow\/tfjs/);
    expect(offending(reachablePackages(['eval', 'run']).packages).join('\n')).toMatch(/@tensorflow\/tfjs/);
    // --help does not even load the infer command's module.
    expect(reachablePackages([]).files.has(path.join(ROOT, 'src/cli/commands/infer.ts'))).toBe(false);
  });
});

/** Run the CLI with the recording hook; returns its output and the module URLs it resolved. */
function runRecorded(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string; modules: string[] }> {
  const record = path.join(mkdtempSync(path.join(tmpdir(), 'p2p-imports-')), 'modules.txt');
  writeFileSync(record, '');
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', path.join(import.meta.dirname, 'fixtures/record-imports.mjs'), ENTRY, ...args], {
      cwd: ROOT,
      env: { ...process.env, PIX2PIX_RECORD_IMPORTS: record },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr, modules: readFileSync(record, 'utf8').trim().split('\n') }));
  });
}

const tfjsModules = (modules: string[]): string[] => modules.filter((m) => m.includes('@tensorflow'));

describe('the CLI loads only the command it runs (a real process)', () => {
  it('--help lists every command with its description and loads no tfjs', async () => {
    const r = await runRecorded(['--help']);
    expect(r.code, r.stderr).toBe(0);
    for (const c of ['data', 'train', 'export', 'infer', 'segmenter', 'eval', 'results']) expect(r.stdout).toMatch(new RegExp(`pix2pix ${c}\\b.*\\S`));
    expect(r.stdout).toContain('Train a pix2pix model');
    expect(r.modules.some((m) => m.includes('src/cli/main.ts'))).toBe(true);
    expect(tfjsModules(r.modules)).toEqual([]);
  });

  it('infer --json translates a folder, prints one JSON summary and loads no tfjs', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'p2p-lazy-'));
    const arch = generatorArch({ depth: 5, ngf: 4 });
    const model = path.join(root, 'g.onnx');
    writeFileSync(model, exportConvNetOnnx(generatorSpec(arch, randomParams(arch, 1), { image_size: '32', size_multiple: '32' })));
    await writeImage(path.join(root, 'in', 'a.png'), { width: 4, height: 4, data: new Uint8Array(48).fill(90) });
    await writeImage(path.join(root, 'in', 'b.png'), { width: 4, height: 4, data: new Uint8Array(48).fill(200) });
    writeFileSync(path.join(root, 'in', 'broken.png'), 'not a png');
    const r = await runRecorded([
      'infer',
      '--model',
      model,
      '--input',
      path.join(root, 'in'),
      '--output',
      path.join(root, 'out'),
      '--provider',
      'cpu',
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(1); // one unreadable file
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const summary = JSON.parse(lines[0]);
    expect(summary).toMatchObject({ total: 3, translated: 2, skipped: 0, provider: 'cpu', size: 'native' });
    expect(summary.failed.map((f: { file: string }) => f.file)).toEqual(['broken.png']);
    expect(summary.imagesPerSecond).toBeCloseTo(2 / summary.seconds, 6);
    expect(existsSync(path.join(root, 'out', 'a.png'))).toBe(true);
    expect(r.modules.some((m) => m.includes('src/runtime/translate.ts'))).toBe(true);
    expect(tfjsModules(r.modules)).toEqual([]);
  });

  it('eval fcn-score loads no tfjs; train does (the recording sees it)', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'p2p-lazy-'));
    const { images, labels, segmenter } = await writeFcnScoreCase(root);
    const r = await runRecorded(['eval', 'fcn-score', '--segmenter', segmenter, '--images', images, '--labels', labels, '--quiet', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).pixelAcc).toBeCloseTo(0.5, 9);
    expect(r.modules.some((m) => m.includes('src/eval/fcn-score.ts'))).toBe(true);
    expect(tfjsModules(r.modules)).toEqual([]);

    const t = await runRecorded(['train', '--data', path.join(root, 'nowhere'), '--out', path.join(root, 'run')]);
    expect(t.code).toBe(2);
    expect(tfjsModules(t.modules).length).toBeGreaterThan(0);
  });
});
