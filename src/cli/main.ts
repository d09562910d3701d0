import { readFileSync } from 'node:fs';
import yargs from 'yargs';
import type { Argv, CommandModule } from 'yargs';
import { errorMessage, isIncompleteError, isUserError } from '../util/errors.ts';
import { stopSignal } from '../util/stop.ts';
import { missingTrainingPackage } from './missing-deps.ts';
import { setRawArgs } from '../options/cli.ts';
import { describeUnknownFlags, unknownFlags } from '../options/suggest.ts';
import { isPlaceError } from '../util/fs.ts';
import { describeFsError } from '../util/paths.ts';
import { COMMANDS, commandName } from './commands/index.ts';
import { withExamples } from './examples.ts';

/** The package's version (src/cli and dist/cli both sit two levels below package.json). */
function packageVersion(): string {
  return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

/** What yargs knows of the command being parsed: `getOptions()` is public in yargs but not in its types. */
interface ParsedOptions {
  key: Record<string, unknown>;
  alias: Record<string, string[]>;
}

/** Every spelling of the command's flags → its canonical flag (the name it was declared under). */
function spellingsOf(y: Argv): Map<string, string> {
  const o = (y as unknown as { getOptions(): ParsedOptions }).getOptions();
  const map = new Map<string, string>();
  for (const key of Object.keys(o.key)) map.set(key, key);
  for (const [key, aliases] of Object.entries(o.alias)) for (const a of aliases) if (!map.has(a) || map.get(a) === a) map.set(a, key);
  return map;
}

/**
 * yargs names an unknown flag twice (`bogus-flag, bogusFlag`: as typed and camel-cased) and suggests
 * nothing; this names each once, as typed, with the nearest flags of the command. Unknown words
 * (a mistyped command) keep yargs' wording.
 */
function unknownArgumentsMessage(msg: string, argv: readonly string[], y: Argv): string {
  const spellings = spellingsOf(y);
  const flags = unknownFlags(argv, spellings);
  const listed = msg.replace(/^Unknown arguments?: /, '').split(', ');
  const camel = (f: string): string => f.replace(/^-+/, '').replace(/[-_]([a-z])/g, (_, c: string) => c.toUpperCase());
  const words = listed.filter((w) => argv.includes(w) && !flags.some((f) => f.replace(/^-+/, '') === w || camel(f) === w));
  const items = [...words, ...(flags.length ? [describeUnknownFlags(flags, spellings)] : [])];
  const n = words.length + flags.length;
  return n === 0 ? msg : `Unknown argument${n === 1 ? '' : 's'}: ${items.join(', ')}`;
}

/**
 * The `pix2pix` CLI. Commands only parse flags and delegate to src/{train,export,runtime,eval,data}.
 * Only the module of the command named on the command line is loaded; the others are listed from
 * the catalog (commands/index.ts) by name and description, so `--help` is instant and `infer`
 * never loads tfjs.
 */
export async function buildCli(argv: string[]): Promise<Argv> {
  setRawArgs(argv);
  let cli = yargs(argv)
    .scriptName('pix2pix')
    // A repeated flag takes its last value (scripts append overrides), instead of becoming an array.
    .parserConfiguration({ 'duplicate-arguments-array': false })
    .usage('$0 <command> [options]\n\npix2pix (Isola et al., CVPR 2017) in TypeScript: train, export to ONNX, translate folders, reproduce the paper.')
    .strict()
    .demandCommand(1, 'name a command')
    .recommendCommands()
    .wrap(Math.min(110, process.stdout.columns ?? 100))
    .help()
    .alias('h', 'help')
    .version(packageVersion())
    .fail((msg, err, usage) => {
      if (err) throw err;
      // `usage` is yargs' help printer; the options of the command being parsed are on the instance.
      const short = /^Unknown arguments?: /.test(msg) ? unknownArgumentsMessage(msg, argv, cli) : msg;
      throw new CliUsageError(`${short}\n\n${usage.help().toString?.() ?? ''}`.trim(), short);
    });
  cli = withExamples(cli, '');
  const named = argv.find((a) => !a.startsWith('-'));
  for (const e of COMMANDS) {
    const run = commandName(e.command) === named;
    // A listed-only command never runs: naming it on the command line loads the real one.
    const c: CommandModule = run
      ? { ...(await e.load()), command: e.command, describe: e.describe }
      : { command: e.command, describe: e.describe, handler: () => undefined };
    cli = cli.command(c);
  }
  return cli;
}

class CliUsageError extends Error {
  constructor(
    message: string,
    readonly short: string,
  ) {
    super(message);
  }
}

export async function main(argv: string[]): Promise<void> {
  try {
    await (await buildCli(argv)).parseAsync();
  } catch (e) {
    // A deliberate stop (SIGINT, SIGTERM) is reported, with its exit status, by its handler.
    if (stopSignal()) return;
    if (e instanceof CliUsageError) {
      // yargs spreads some messages over lines ("Invalid values:\n  Argument: …"): keep the one-line promise.
      let short = e.short.replace(/\s*\n\s*/g, ' ');
      // A command group (`eval`, `data`, …) called without its sub-command: say so in its own words.
      const words = argv.filter((a) => !a.startsWith('-'));
      if (/^Not enough non-option arguments/.test(short) && words.length > 0) {
        const cmd = words.join(' ');
        short =
          words.length === 1 ? `${cmd} needs a sub-command: 'pix2pix ${cmd} --help' lists them` : `${cmd} is missing its argument: see 'pix2pix ${cmd} --help'`;
      }
      process.stderr.write(`pix2pix: ${short}\nRun 'pix2pix --help' or 'pix2pix <command> --help'.\n`);
      process.exitCode = 2;
    } else if (isUserError(e)) {
      process.stderr.write(`pix2pix: ${e.message}\n`);
      process.exitCode = 2;
    } else if (isIncompleteError(e)) {
      process.stderr.write(`pix2pix: ${e.message}\n`);
      process.exitCode = 1;
    } else if (isPlaceError(e)) {
      // A full disk or a refused write that no writer wrapped: still one line, naming the file when known.
      process.stderr.write(`pix2pix: ${e.syscall ?? 'file operation'}${e.path ? ` ${e.path}` : ''} failed: ${describeFsError(e)}\n`);
      // The same status as the writers' own "cannot write …" errors.
      process.exitCode = 2;
    } else if (missingTrainingPackage(e)) {
      process.stderr.write(`pix2pix: ${missingTrainingPackage(e)}\n`);
      process.exitCode = 2;
    } else {
      process.stderr.write(`pix2pix: internal error: ${errorMessage(e)}\n`);
      if (process.env.PIX2PIX_DEBUG) process.stderr.write(`${(e as Error).stack ?? ''}\n`);
      else process.stderr.write('(set PIX2PIX_DEBUG=1 for the stack trace)\n');
      process.exitCode = 1;
    }
  }
}
