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
    const m = /^--?(no-)?([^=]+)(?:=(.*))?$/.exec(rawArgs[i]);
    if (m && names.has(m[2])) return { flag: `--${m[1] ?? ''}${m[2]}`, text: m[3] ?? (spec.kind === 'boolean' ? undefined : rawArgs[i + 1]) };
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

/** The `--help` heading of the PyTorch repo's flags that have no option of their own. */
const PYTORCH_GROUP = "The PyTorch repo's flags (docs/coming-from-pytorch.md):";

/** Keys some `pytorch` flag of the table can stand for (`--name` → `out`): yargs must not demand them. */
function mappedKeys(table: OptionTable): Set<string> {
  return new Set(Object.values(table).flatMap((s) => s.pytorch?.mapsTo ?? []));
}

/** Declare every option of `table` on a yargs builder. */
export function addOptions<T>(y: Argv<T>, table: OptionTable): Argv<T> {
  let b = y;
  const mapped = mappedKeys(table);
  for (const [key, spec] of Object.entries(table)) {
    const flag = flagOf(key, spec);
    const choices = spec.choices ? ` [choices: ${spec.choices.join(', ')}]` : '';
    b = b.option(flag, {
      type: yargsType(spec),
      array: spec.kind === 'int-list' ? true : undefined,
      alias: spellingsOf(key, spec).slice(1),
      describe: `${spec.help}${choices}`,
      defaultDescription: spec.default === undefined ? undefined : String(spec.default),
      demandOption: spec.required && !mapped.has(key) ? true : undefined,
      hidden: spec.hidden,
      // Named for both, so that the PyTorch repo's flags come after ours in --help.
      group: spec.scope === 'pytorch' ? PYTORCH_GROUP : 'Options:',
    });
    for (const [sw, value] of Object.entries(spec.switches ?? {})) {
      b = b.option(sw, {
        type: 'boolean',
        hidden: true,
        describe: `same as --${typeof value === 'boolean' ? (value ? '' : 'no-') + flag : `${flag} ${String(value)}`}`,
      });
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
  const given = new Set<string>();
  for (const [key, spec] of Object.entries(table)) {
    let v = argv[flagOf(key, spec)];
    for (const [sw, value] of Object.entries(spec.switches ?? {})) if (argv[sw] === true) v = value;
    if (v === undefined) {
      if (opts.defaults !== false && spec.default !== undefined) out[key] = spec.default;
      continue;
    }
    const flag = (): string => typed(key, spec)?.flag ?? canonicalFlag(table, key);
    const refused = spec.refuse?.(String(v));
    if (refused) throw new UserError(`${flag()}${spec.kind === 'boolean' ? '' : ` ${String(v)}`}: ${refused}`);
    const problem = problemOf(spec, v);
    if (problem) throw new UserError(`${flag()} ${problem} (got ${typed(key, spec)?.text ?? JSON.stringify(v)})`);
    out[key] = v;
    given.add(key);
  }
  translatePytorchFlags(table, out, given);
  for (const [key, spec] of Object.entries(table)) {
    if (spec.required && out[key] === undefined)
      throw new UserError(`Missing required argument: ${canonicalFlag(table, key)}${pytorchAlternative(table, key)}`);
  }
  return out as ArgsOf<Tbl>;
}

/** ` (or the PyTorch repo's --name)` for a required option a `pytorch` flag can stand for. */
function pytorchAlternative(table: OptionTable, key: string): string {
  const by = Object.entries(table).find(([, s]) => s.pytorch?.mapsTo?.includes(key));
  return by ? ` (or the PyTorch repo's --${spellingsOf(by[0], by[1]).at(-1)})` : '';
}

/**
 * Replace the `pytorch`-scope flags in `out` by the options they stand for, printing one line each on
 * stderr (the note, or `--gpu_ids -1 → --engine ort-cpu`). A flag mapped onto an option the user
 * also gave is an error: two spellings of one thing that may disagree.
 */
function translatePytorchFlags(table: OptionTable, out: Record<string, unknown>, given: Set<string>): void {
  const read = { ...out };
  for (const [key, spec] of Object.entries(table)) {
    if (spec.scope !== 'pytorch' || !given.has(key)) continue;
    const v = out[key];
    delete out[key];
    const flag = typed(key, spec)?.flag ?? canonicalFlag(table, key);
    const clash = spec.pytorch?.mapsTo?.find((k) => given.has(k));
    if (clash) throw new UserError(`${flag} stands for ${flagName(table, clash)} here: give one of them`);
    const mapped = spec.pytorch?.map?.(v, read) ?? {};
    Object.assign(out, mapped);
    const shown = Object.entries(mapped).map(([k, x]) => `${canonicalFlag(table, k)} ${String(x)}`);
    const line = spec.pytorch?.note ? spec.pytorch.note(v) : shown.length ? `means ${shown.join(' ')} here` : undefined;
    if (line) process.stderr.write(`pix2pix: ${flag}${spec.kind === 'boolean' ? '' : ` ${String(v)}`}: ${line}\n`);
  }
}
