/**
 * Every `--flag` that README.md and docs/*.md show in a `pix2pix` command exists for that command:
 * the code blocks and inline code spans are searched for `pix2pix <command> …` and each flag is looked
 * up among the command's spellings (its option table, aliases, switches, --no- forms, --help and
 * --version). A command the table below does not know fails the test too: nothing is skipped.
 */
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { type OptionTable, spellingsOf } from '../../src/options/define.ts';
import { COMMAND_OPTIONS } from '../helpers/command-options.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const GROUPS = new Set(['data', 'segmenter', 'eval', 'results']);

/** The flags (without dashes) a command accepts. */
function spellings(table: OptionTable): Set<string> {
  const out = new Set(['help', 'h', 'version']);
  for (const [key, spec] of Object.entries(table)) {
    for (const s of [...spellingsOf(key, spec), ...Object.keys(spec.switches ?? {})]) {
      out.add(s);
      if (spec.kind === 'boolean') out.add(`no-${s}`);
    }
  }
  return out;
}

/** Code the markdown shows: fenced blocks (continuation lines joined) and inline spans. */
export function codeOf(markdown: string): string[] {
  const out: string[] = [];
  const prose: string[] = [];
  let fence = false;
  let block: string[] = [];
  for (const line of markdown.split('\n')) {
    if (/^\s*```/.test(line)) {
      if (fence)
        out.push(
          ...block
            .join('\n')
            .replace(/\s*\\\n\s*/g, ' ')
            .split('\n'),
        );
      fence = !fence;
      block = [];
    } else if (fence) block.push(line);
    else prose.push(line);
  }
  for (const m of prose.join('\n').matchAll(/`([^`\n]+)`/g)) out.push(m[1]);
  return out;
}

/** Each `pix2pix <command> …` in a line of code: the command path and the flags written after it. */
export function commandsIn(code: string): { command: string; flags: string[] }[] {
  const out: { command: string; flags: string[] }[] = [];
  // One shell command ends at a comment, `&&`, `;` or a pipe (a markdown table's `\|` is text).
  for (const part of code.split(/\s#\s|&&|;|(?<!\\)\|/)) {
    const m = /(?:^|\s)pix2pix\s+([a-z][\w-]*)(?:\s+([a-z][\w-]*))?(.*)$/.exec(part);
    if (!m) continue;
    const command = GROUPS.has(m[1]) ? `${m[1]} ${m[2] ?? ''}`.trim() : m[1];
    const rest = GROUPS.has(m[1]) ? m[3] : `${m[2] ?? ''}${m[3]}`;
    out.push({ command, flags: [...rest.matchAll(/(?:^|[\s[(])--([A-Za-z][\w-]*)/g)].map((f) => f[1]) });
  }
  return out;
}

/** docs/errors.md shows wrong command lines on purpose; test/cli/bad-invocations.test.ts writes and checks it. */
const WRONG_ON_PURPOSE = 'docs/errors.md';
const FILES = [
  'README.md',
  ...readdirSync(path.join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`)
    .filter((f) => f !== WRONG_ON_PURPOSE),
];

describe('flags in README.md and docs/*.md', () => {
  it('the parser finds commands and their flags in shell lines and table cells', () => {
    expect(commandsIn('npx pix2pix infer --model m.onnx --input in/ --out out/   # a comment with --fake')).toEqual([
      { command: 'infer', flags: ['model', 'input', 'out'] },
    ]);
    expect(commandsIn('pix2pix eval run FILE [--profile quick\\|full] [--only V]')).toEqual([{ command: 'eval run', flags: ['profile', 'only'] }]);
    expect(commandsIn('pix2pix export --checkpoint r && pix2pix infer --model r/model.onnx')).toEqual([
      { command: 'export', flags: ['checkpoint'] },
      { command: 'infer', flags: ['model'] },
    ]);
    expect(codeOf('text `pix2pix train --data d`\n```sh\npix2pix eval rf \\\n  --size 64\n```\n')).toEqual([
      'pix2pix eval rf --size 64',
      'pix2pix train --data d',
    ]);
  });

  it.each(FILES)('%s names only flags its pix2pix commands have', (file) => {
    const problems: string[] = [];
    let seen = 0;
    for (const code of codeOf(readFileSync(path.join(ROOT, file), 'utf8'))) {
      for (const { command, flags } of commandsIn(code)) {
        seen += 1;
        const table = COMMAND_OPTIONS[command] ?? {};
        if (!(command in COMMAND_OPTIONS)) {
          problems.push(`unknown command 'pix2pix ${command}' in: ${code}`);
          continue;
        }
        const known = spellings(table);
        for (const f of flags) if (!known.has(f)) problems.push(`pix2pix ${command} has no --${f}: ${code}`);
      }
    }
    expect(problems).toEqual([]);
    if (file === 'README.md') expect(seen).toBeGreaterThan(20);
  });

  it('the README shows every command', () => {
    const shown = new Set(codeOf(readFileSync(path.join(ROOT, 'README.md'), 'utf8')).flatMap((c) => commandsIn(c).map((x) => x.command)));
    expect(Object.keys(COMMAND_OPTIONS).filter((c) => !shown.has(c))).toEqual([]);
  });
});
