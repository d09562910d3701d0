/**
 * `losses-steps.csv`: the losses of every optimisation step (step,G_GAN,G_L1,D_real,D_fake), for the
 * per-step training curves. An epoch's rows are kept in memory and appended just before its
 * checkpoint is written; a run (fresh or resumed) first drops rows past the checkpoint's step (and a
 * torn last line), so a killed run neither duplicates nor skips a step.
 */
import { promises as fsp } from 'node:fs';
import { writeFileAtomic } from '../util/fs.ts';

export const STEP_LOSSES_FILE = 'losses-steps.csv';
const HEADER = 'step,G_GAN,G_L1,D_real,D_fake';

export interface StepRow {
  step: number;
  G_GAN: number;
  G_L1: number;
  D_real: number;
  D_fake: number;
}

function stepLines(rows: readonly StepRow[]): string {
  return rows.map((r) => `${r.step},${r.G_GAN},${r.G_L1},${r.D_real},${r.D_fake}\n`).join('');
}

/** Append rows (writing the header first when the file is new). */
export async function appendStepLosses(file: string, rows: readonly StepRow[]): Promise<void> {
  const size = await fsp.stat(file).then(
    (st) => st.size,
    () => 0,
  );
  await fsp.appendFile(file, (size === 0 ? `${HEADER}\n` : '') + stepLines(rows));
}

/**
 * Keep only complete rows with step ≤ `lastStep` (the checkpoint's step); with `lastStep` 0 (a fresh
 * run) the file is removed.
 */
export async function truncateStepLosses(file: string, lastStep: number): Promise<void> {
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch {
    return;
  }
  if (lastStep <= 0) {
    await fsp.rm(file, { force: true });
    return;
  }
  const complete = text.endsWith('\n') ? text : text.slice(0, text.lastIndexOf('\n') + 1);
  const keep = complete
    .split('\n')
    .slice(1)
    .filter((line) => {
      const cells = line.split(',');
      return cells.length === 5 && Number(cells[0]) <= lastStep && cells.every((x) => x !== '');
    });
  const next = `${HEADER}\n${keep.map((l) => `${l}\n`).join('')}`;
  if (next !== text) await writeFileAtomic(file, next);
}
