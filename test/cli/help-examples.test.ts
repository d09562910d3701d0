import type { Argv } from 'yargs';
import { describe, expect, it } from 'vitest';
import { buildCli } from '../../src/cli/main.ts';
import { COMMANDS, commandName } from '../../src/cli/commands/index.ts';
import { EXAMPLES } from '../../src/cli/examples.ts';
import { readArgs } from '../../src/options/cli.ts';
import { COMMAND_OPTIONS } from '../helpers/command-options.ts';

class Parsed extends Error {
  constructor(
    readonly argv: Record<string, unknown>,
    readonly help: string,
  ) {
    super('parsed');
  }
}

/** Parse `args` with the real CLI up to the handler (which never runs); the parsed flags and the command's help. */
async function parseOnly(args: string[]): Promise<Parsed> {
  const cli = await buildCli(args);
  // Middleware runs after yargs' checks (unknown flags, required ones) and before the handler.
  const stop = async (argv: Record<string, unknown>, y: unknown): Promise<never> => {
    throw new Parsed(argv, await (y as Argv).getHelp());
  };
  cli.middleware(stop as unknown as Parameters<Argv['middleware']>[0]);
  try {
    await cli.parseAsync();
  } catch (e) {
    if (e instanceof Parsed) return e;
    throw e;
  }
  throw new Error(`pix2pix ${args.join(' ')}: the handler ran before the test's middleware`);
}

describe('--help examples', () => {
  it('every command has examples (and the top level, which shows the quick start)', () => {
    const paths = Object.keys(COMMAND_OPTIONS);
    expect(Object.keys(EXAMPLES).sort()).toEqual(['', ...paths].sort());
    for (const c of COMMANDS)
      expect(
        paths.some((p) => p.split(' ')[0] === commandName(c.command)),
        commandName(c.command),
      ).toBe(true);
  });

  it('every example parses with the real CLI, its values pass the checks, and it is in that command’s --help', async () => {
    for (const [path, examples] of Object.entries(EXAMPLES)) {
      for (const [line] of examples) {
        const args = line.split(/\s+/);
        if (path !== '') expect(line.startsWith(`${path} `) || line === path, line).toBe(true);
        const parsed = await parseOnly(args).catch((e: unknown) => {
          throw new Error(`pix2pix ${line}: ${String(e)}`);
        });
        const table = COMMAND_OPTIONS[path === '' ? Object.keys(COMMAND_OPTIONS).find((p) => line.startsWith(`${p} `))! : path];
        if (table) expect(() => readArgs(table, parsed.argv), line).not.toThrow();
        if (path !== '') expect(parsed.help.replace(/\s+/g, ' '), line).toContain(`pix2pix ${line}`);
      }
    }
  });

  it('the top-level help shows the quick start', async () => {
    const cli = await buildCli(['--help']);
    const help = (await cli.getHelp()).replace(/\s+/g, ' ');
    for (const [line] of EXAMPLES['']) expect(help).toContain(`pix2pix ${line}`);
  });
});
