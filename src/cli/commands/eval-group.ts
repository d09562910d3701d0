import { buildEvalCommand } from './eval.ts';
import { evalRunCommand } from './experiments.ts';
import { evalRfCommand } from './rf.ts';

/** `pix2pix eval` with every sub-command: fcn-score, labels, color (eval.ts), rf, run. */
export const evalGroupCommand = buildEvalCommand([evalRfCommand, evalRunCommand]);
