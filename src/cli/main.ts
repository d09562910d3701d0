import yargs from 'yargs';
import type { Argv, CommandModule } from 'yargs';
import { errorMessage, isIncompleteError, isUserError } from '../util/errors.ts';
import { stopSignal } from '../util/stop.ts';
import { setRawArgs } from '../options/cli.ts';
import { COMMANDS, commandName } from './commands/index.ts';

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
    .version(false)
    .fail((msg, err, y) => {
      if (err) throw err;
      throw new CliUsageError(`${msg}\n\n${y.help().toString?.() ?? ''}`.trim(), msg);
    });
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
    } else {
      process.stderr.write(`pix2pix: internal error: ${errorMessage(e)}\n`);
      if (process.env.PIX2PIX_DEBUG) process.stderr.write(`${(e as Error).stack ?? ''}\n`);
      else process.stderr.write('(set PIX2PIX_DEBUG=1 for the stack trace)\n');
      process.exitCode = 1;
    }
  }
}
