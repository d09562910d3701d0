/**
 * Option tables → yargs flags, and parsed flags → checked values. yargs is told no defaults and no
 * choices: it would fill in values the user never typed (so `--epochs` could not tell "given" from
 * "default") and would name the canonical flag in its errors. We check here instead, and every error
 * names the flag as the user typed it (`--batch_size must be an integer ≥ 1 (got 0)`).
 */
import type { Argv } from 'yargs';
import { UserError } from '../util/errors.ts';
import { type AnySpec, type ArgsOf, canonicalFlag, flagOf, type OptionTable, problemOf, spellingsOf } from './define.ts';

let rawArgs: readonly string[] = [];

/** The command line as typed (the CLI sets it), so errors can repeat the user's own spelling. */
export function setRawArgs(argv: readonly string[]): void {
  rawArgs = argv;
}

/** The last `--name[=value]` on the command line that spells this option, with the text of its value. */
function typed(key: string, spec: AnySpec): { flag: string; text?: string } | undefined {
  const names = new Set([...spellingsOf(key, spec), key, ...Object.keys(spec.switches ?? {})]);
  for (let i = rawArgs.length - 1; i >= 0; i--) {
    const m = /^--?(no-)?([^=]+)(?:=(.*))?$/.exec(rawArgs[i]!);
    if (m && names.has(m[2]!)) return { flag: `--${m[1] ?? ''}${m[2]}`, text: m[3] ?? (spec.kind === 'boolean' ? undefined : rawArgs[i + 1]) };
  }
  return undefined;
}

/** How to name an option in a message: as typed, else its canonical flag (`--load-size`). */
export function flagName(table: OptionTable, key: string): string {
  const spec = table[key];
  return (spec && typed(key, spec)?.flag) ?? canonicalFlag(table, key);
}

/** A namer for resolvers (resolveTrainConfig) that names options as the user typed them. */
export function cliNamer(table: OptionTable): (key: string) => string {
  return (key) => flagName(table, key);
}

function yargsType(spec: AnySpec): 'number' | 'boolean' | 'string' {
  if (spec.kind === 'int' || spec.kind === 'number' || spec.kind === 'int-list') return 'number';
  return spec.kind === 'boolean' ? 'boolean' : 'string';
}

/** Declare every option of `table` on a yargs builder. */
export function addOptions<T>(y: Argv<T>, table: OptionTable): Argv<T> {
  let b = y;
  for (const [key, spec] of Object.entries(table)) {
    const flag = flagOf(key, spec);
    const choices = spec.choices ? ` [choices: ${spec.choices.join(', ')}]` : '';
    b = b.option(flag, {
      type: yargsType(spec),
      array: spec.kind === 'int-list' ? true : undefined,
      alias: spellingsOf(key, spec).slice(1),
      describe: `${spec.help}${choices}`,
      defaultDescription: spec.default === undefined ? undefined : String(spec.default),
      demandOption: spec.required ? true : undefined,
      hidden: spec.hidden,
    }) as Argv<T>;
    for (const [sw, value] of Object.entries(spec.switches ?? {})) {
      b = b.option(sw, {
        type: 'boolean',
        hidden: true,
        describe: `same as --${typeof value === 'boolean' ? (value ? '' : 'no-') + flag : `${flag} ${String(value)}`}`,
      }) as Argv<T>;
    }
  }
  return b;
}

/**
 * The values of `table`'s options from parsed flags, checked, keyed by option key. With
 * `defaults: false` only what the user gave is returned (resolvers then fill in the rest).
 */
export function readArgs<Tbl extends OptionTable>(table: Tbl, argv: Record<string, unknown>, opts: { defaults?: boolean } = {}): ArgsOf<Tbl> {
  const out: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(table)) {
    let v = argv[flagOf(key, spec)];
    for (const [sw, value] of Object.entries(spec.switches ?? {})) if (argv[sw] === true) v = value;
    if (v === undefined) {
      if (opts.defaults !== false && spec.default !== undefined) out[key] = spec.default;
      continue;
    }
    const problem = problemOf(spec, v);
    if (problem) {
      const t = typed(key, spec);
      throw new UserError(`${t?.flag ?? canonicalFlag(table, key)} ${problem} (got ${t?.text ?? JSON.stringify(v)})`);
    }
    out[key] = v;
  }
  return out as ArgsOf<Tbl>;
}
