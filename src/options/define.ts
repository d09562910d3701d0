/**
 * The option table's vocabulary: one `OptionSpec` per option says everything the CLI, the experiment
 * files and the config types need (kind, choices, default, check, help, spellings). Tables are plain
 * objects keyed by the option's camelCase key, which is also its config field and its YAML key; the
 * command-line flag is the kebab-case form of the key unless `flag` says otherwise.
 *
 * This module and the tables beside it import nothing heavy: the CLI builds `--help` from them
 * without loading tfjs or onnxruntime.
 */

export type Kind = 'int' | 'number' | 'string' | 'boolean' | 'choice' | 'int-list';

/**
 * Where an option's value goes: `config` = a field of the resolved config (TrainConfig …);
 * `input` = accepted by the resolver and turned into config fields (e.g. `--rf` → nLayersD);
 * `cli` = changes how the command runs, not what it computes (`--quiet`, `--json`, `--resume`);
 * `pytorch` = a flag of the PyTorch repo with no option of its own here: `readArgs` translates it
 * (see `PytorchFlag`) and handlers never see it.
 */
export type Scope = 'config' | 'input' | 'cli' | 'pytorch';

/**
 * What a `pytorch`-scope flag does here, so that the PyTorch repo's documented commands run. Each
 * use prints one line on stderr: the note, or for a mapping the flags it stands for.
 */
export interface PytorchFlag<T> {
  /** Options of the same table this flag stands for (given one of them too, the command stops). */
  readonly mapsTo?: readonly string[];
  /** Their values, from this flag's value and the other values read (may throw a UserError). */
  readonly map?: (v: T, given: Readonly<Record<string, unknown>>) => Readonly<Record<string, unknown>>;
  /** The line to print instead of the mapping; undefined prints nothing (e.g. `--model pix2pix`). */
  readonly note?: (v: T) => string | undefined;
}

export interface OptionSpec<T = unknown> {
  readonly kind: Kind;
  /** One or two sentences for `--help`; choices and the default are appended by the CLI. */
  readonly help: string;
  readonly choices?: readonly string[];
  readonly default?: T;
  /** Bounds of int / number / int-list values (inclusive). */
  readonly min?: number;
  readonly max?: number;
  /** Further rule; returns what is wrong ("must be a positive number") or undefined. */
  readonly check?: (v: T) => string | undefined;
  /** Canonical flag when the kebab-case form of the key is not wanted (without dashes). */
  readonly flag?: string;
  /** Other command-line spellings: the PyTorch repo's names, older names. snake_case is added automatically. */
  readonly aliases?: readonly string[];
  /**
   * Values (usually the PyTorch repo's) that are understood but not implemented here: the value → the
   * one line saying what to use instead (the command stops with it, exit 2); undefined = no objection.
   */
  readonly refuse?: (v: string) => string | undefined;
  /** A PyTorch repo flag translated by `readArgs` (scope `pytorch`). */
  readonly pytorch?: PytorchFlag<T>;
  /** Boolean command-line switches that set this option to a value (PyTorch's `--no_flip` → flip false). */
  readonly switches?: Readonly<Record<string, T>>;
  /** May be set in experiment files, under the key. */
  readonly yaml?: boolean;
  /** The command fails without it. */
  readonly required?: boolean;
  readonly scope?: Scope;
  /** Left out of `--help` (still accepted). */
  readonly hidden?: boolean;
  /** Phantom: the value type, for the derived config types. */
  readonly __type?: T;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnySpec = OptionSpec<any>;
export type OptionTable = Readonly<Record<string, AnySpec>>;

type Opts<T> = Omit<OptionSpec<T>, 'kind' | 'choices' | '__type'>;
type PytorchOpts<T> = Omit<Opts<T>, 'scope' | 'yaml' | 'required' | 'default'> & { pytorch: PytorchFlag<T> };

/** Constructors: `int({ help, default: 1, min: 1 })`; literal fields (scope, yaml, required) keep their types. */
export const opt = {
  int: <const O extends Opts<number>>(o: O) => ({ ...o, kind: 'int' }) as O & { kind: 'int'; __type?: number },
  number: <const O extends Opts<number>>(o: O) => ({ ...o, kind: 'number' }) as O & { kind: 'number'; __type?: number },
  string: <const O extends Opts<string>>(o: O) => ({ ...o, kind: 'string' }) as O & { kind: 'string'; __type?: string },
  boolean: <const O extends Opts<boolean>>(o: O) => ({ ...o, kind: 'boolean' }) as O & { kind: 'boolean'; __type?: boolean },
  intList: <const O extends Opts<number[]>>(o: O) => ({ ...o, kind: 'int-list' }) as O & { kind: 'int-list'; __type?: number[] },
  choice: <const C extends readonly string[], const O extends Opts<C[number]>>(choices: C, o: O) =>
    ({ ...o, kind: 'choice', choices }) as O & { kind: 'choice'; choices: C; __type?: C[number] },
};

/** Constructors of `pytorch`-scope flags: `pytorch.string({ help, pytorch: { mapsTo: ['out'], map } })`. */
export const pytorch = {
  int: <const O extends PytorchOpts<number>>(o: O) => ({ ...o, kind: 'int', scope: 'pytorch' }) as O & { kind: 'int'; scope: 'pytorch'; __type?: number },
  string: <const O extends PytorchOpts<string>>(o: O) =>
    ({ ...o, kind: 'string', scope: 'pytorch' }) as O & { kind: 'string'; scope: 'pytorch'; __type?: string },
  boolean: <const O extends PytorchOpts<boolean>>(o: O) =>
    ({ ...o, kind: 'boolean', scope: 'pytorch' }) as O & { kind: 'boolean'; scope: 'pytorch'; __type?: boolean },
};

// ------------------------------------------------------------------------------------------------
// Types derived from a table

export type ValueOf<S> = S extends { __type?: infer T } ? Exclude<T, undefined> : never;
type ScopeOf<S> = S extends { scope: infer X } ? X : 'config';

/** Every option of the given scopes, all present (a resolved config). */
export type ValuesOf<Tbl, Sc extends Scope = Scope> = { -readonly [K in keyof Tbl as ScopeOf<Tbl[K]> extends Sc ? K : never]: ValueOf<Tbl[K]> };

/**
 * What a command's handler gets: options with a default or `required` are present, others may be
 * missing; `pytorch`-scope flags are translated away.
 */
export type ArgsOf<Tbl> = {
  -readonly [K in keyof Tbl as Tbl[K] extends { scope: 'pytorch' } ? never : Tbl[K] extends { default: unknown } | { required: true } ? K : never]: ValueOf<
    Tbl[K]
  >;
} & {
  -readonly [K in keyof Tbl as Tbl[K] extends { scope: 'pytorch' } ? never : Tbl[K] extends { default: unknown } | { required: true } ? never : K]?: ValueOf<
    Tbl[K]
  >;
};

/** The settings an experiment file may give (all optional). */
export type YamlOf<Tbl> = { -readonly [K in keyof Tbl as Tbl[K] extends { yaml: true } ? K : never]?: ValueOf<Tbl[K]> };

/** The defaults of a table's options of the given scopes. */
export type DefaultsOf<Tbl, Sc extends Scope = Scope> = {
  -readonly [K in keyof Tbl as ScopeOf<Tbl[K]> extends Sc ? (Tbl[K] extends { default: unknown } ? K : never) : never]: ValueOf<Tbl[K]>;
};

// ------------------------------------------------------------------------------------------------
// Names

export function kebab(key: string): string {
  return key.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();
}

/** The canonical flag (without dashes). */
export function flagOf(key: string, spec: AnySpec): string {
  return spec.flag ?? kebab(key);
}

/** `--flag` of a table's option for messages (`nLayersD` → `--n-layers-d`); unknown keys as `--key`. */
export function canonicalFlag(table: OptionTable, key: string): string {
  const spec = table[key];
  return `--${spec ? flagOf(key, spec) : key}`;
}

/** Every command-line spelling of an option (without dashes): canonical first, then snake_case, then aliases. */
export function spellingsOf(key: string, spec: AnySpec): string[] {
  const flag = flagOf(key, spec);
  const aliases = spec.aliases ?? [];
  const snake = flag.replace(/-/g, '_');
  // `--n_layers_d` is noise beside the PyTorch repo's `--n_layers_D`.
  const auto = aliases.some((x) => x.toLowerCase() === snake) ? [] : [snake];
  return [...new Set([flag, ...auto, ...aliases])];
}

export function defaultsOf<Tbl extends OptionTable, Sc extends Scope = Scope>(table: Tbl, scopes?: readonly Sc[]): DefaultsOf<Tbl, Sc> {
  const out: Record<string, unknown> = {};
  for (const [k, s] of Object.entries(table)) {
    if (s.default !== undefined && (!scopes || scopes.includes((s.scope ?? 'config') as Sc))) out[k] = s.default;
  }
  return out as DefaultsOf<Tbl, Sc>;
}

/** Keys of the options that experiment files may set, in table order. */
export function yamlKeys(table: OptionTable): string[] {
  return Object.entries(table)
    .filter(([, s]) => s.yaml)
    .map(([k]) => k);
}

// ------------------------------------------------------------------------------------------------
// Checks (one wording for the CLI and the experiment files)

function range(what: string, min?: number, max?: number): string {
  if (min !== undefined && max !== undefined) return `${what} from ${min} to ${max}`;
  if (min !== undefined) return `${what} ≥ ${min}`;
  if (max !== undefined) return `${what} ≤ ${max}`;
  return what;
}

function numberProblem(v: unknown, int: boolean, min?: number, max?: number): string | undefined {
  const ok = typeof v === 'number' && Number.isFinite(v) && (!int || Number.isInteger(v)) && (min === undefined || v >= min) && (max === undefined || v <= max);
  return ok ? undefined : `must be ${range(int ? 'an integer' : 'a number', min, max)}`;
}

/** What is wrong with `v` as a value of `spec` ("must be an integer ≥ 1"), or undefined. */
export function problemOf(spec: AnySpec, v: unknown): string | undefined {
  let p: string | undefined;
  switch (spec.kind) {
    case 'int':
      p = numberProblem(v, true, spec.min, spec.max);
      break;
    case 'number':
      p = numberProblem(v, false, spec.min, spec.max);
      break;
    case 'string':
      p = typeof v === 'string' && v !== '' ? undefined : 'must be a non-empty string';
      break;
    case 'boolean':
      p = typeof v === 'boolean' ? undefined : 'must be true or false';
      break;
    case 'choice':
      p = typeof v === 'string' && spec.choices!.includes(v) ? undefined : `must be one of ${spec.choices!.join(', ')}`;
      break;
    case 'int-list':
      p =
        Array.isArray(v) && v.every((x) => numberProblem(x, true, spec.min, spec.max) === undefined)
          ? undefined
          : `must be a list of ${range('integers', spec.min, spec.max)}`;
      break;
  }
  return p ?? spec.check?.(v);
}

/** Shared rule: a positive number (learning rates). */
export const positive = (v: number): string | undefined => (v > 0 ? undefined : 'must be a positive number');
