import * as path from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { addOptions, readArgs } from '../../options/cli.ts';
import type { ArgsOf } from '../../options/define.ts';
import { TEST_PY_OPTIONS } from '../../options/test-py.ts';
import { UserError } from '../../util/errors.ts';
import { entry } from './index.ts';
import { withExamples } from '../examples.ts';

type TestPyArgs = ArgsOf<typeof TEST_PY_OPTIONS>;

/** The `export` and `infer` command lines that do what `python test.py` with these flags does. */
function testPyEquivalent(a: TestPyArgs): { exportArgs: string[]; inferArgs: string[] } {
  const run = path.join(a.checkpointsDir, a.name);
  const single = a.datasetMode === 'single' || (a.datasetMode === undefined && a.model === 'test');
  const side = a.direction === 'AtoB' ? 'A' : 'B';
  return {
    exportArgs: ['export', '--checkpoint', run, ...(a.eval ? ['--bn', 'running'] : [])],
    inferArgs: [
      'infer',
      '--model',
      path.join(run, 'model.onnx'),
      '--input',
      path.join(a.dataroot, a.phase),
      ...(single ? [] : ['--ab-side', side]),
      '--out',
      path.join(a.resultsDir, a.name, `${a.phase}_${a.epoch}`, 'images'),
    ],
  };
}

/** `pix2pix test`: test.py's flags in, the equivalent commands out (one line, exit status 2). */
export const testPyCommand: CommandModule = {
  ...entry('test'),
  builder: (y: Argv) =>
    withExamples(addOptions(y, TEST_PY_OPTIONS), 'test')
      .strict(false)
      .usage(
        "$0 test --dataroot DIR --name NAME [test.py's flags]\n\n" +
          "test.py is two commands here: `pix2pix export` writes the run's generator as ONNX, `pix2pix infer`\n" +
          'translates a folder with it. This command prints them for the flags given (and runs nothing).',
      ),
  handler: (argv) => {
    const a = readArgs(TEST_PY_OPTIONS, argv);
    const { exportArgs, inferArgs } = testPyEquivalent(a);
    throw new UserError(`test.py is two commands here: pix2pix ${exportArgs.join(' ')} && pix2pix ${inferArgs.join(' ')}`);
  },
};
