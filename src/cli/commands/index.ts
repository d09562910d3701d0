import type { CommandModule } from 'yargs';
import { dataCommand } from './data.ts';
import { buildEvalCommand } from './eval.ts';
import { evalRunCommand, resultsCommand } from './experiments.ts';
import { exportCommand } from './export.ts';
import { inferCommand } from './infer.ts';
import { evalRfCommand } from './rf.ts';
import { segmenterCommand } from './segmenter.ts';
import { serveCommand } from './serve.ts';
import { trainCommand } from './train.ts';

/** Every top-level command, in the order `--help` lists them. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const commands: CommandModule<any, any>[] = [dataCommand, trainCommand, exportCommand, inferCommand, serveCommand, segmenterCommand, buildEvalCommand([evalRfCommand, evalRunCommand]), resultsCommand];
