/**
 * Stopping a run that diverged. A NaN or infinite loss means the forward pass produced one, and with
 * finite images in [−1, 1] that only happens once a weight is no longer finite; Adam then spreads it
 * (an infinite gradient makes the moments infinite and the update NaN), so no later step recovers.
 * The run stops with a message naming the step and the likely cause, and the last checkpoint, written
 * before it diverged, is left as it was.
 */
import { UserError } from '../util/errors.ts';
import type { StepLosses } from './model.ts';

/** The paper's learning rate, suggested when a larger one diverged. */
const PAPER_LR = 2e-4;

/** A learning rate to try after `lr` diverged: the paper's when `lr` is above it, else a tenth of `lr`. */
export function suggestLearningRate(lr: number): number {
  return lr > PAPER_LR ? PAPER_LR : Number((lr / 10).toPrecision(3));
}

/** Index of the first NaN or ±Infinity in `data`, or undefined. */
export function firstNonFinite(data: Float32Array): number | undefined {
  for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i])) return i;
  return undefined;
}

/** The non-finite losses of a step, as `G_L1 NaN`. */
export function nonFiniteLosses(l: StepLosses): string[] {
  return (Object.entries(l) as [keyof StepLosses, number][]).filter(([, v]) => !Number.isFinite(v)).map(([k, v]) => `${k} ${v}`);
}

export interface GuardOptions {
  /** Consecutive non-finite steps that stop training. */
  limit: number;
  lr: number;
  /** The checkpoint that is kept when training stops (null: none written yet). */
  lastGood: { epoch: number; file: string } | null;
}

export class DivergenceGuard {
  private run = 0;
  private lastGood: GuardOptions['lastGood'];

  /** `limit` (≥ 1) is checked by train() before anything is written. */
  constructor(private readonly o: GuardOptions) {
    this.lastGood = o.lastGood;
  }

  /** Count a step's losses; throws once `limit` consecutive steps had a non-finite one. */
  check(step: number, epoch: number, losses: StepLosses): void {
    const bad = nonFiniteLosses(losses);
    if (bad.length === 0) {
      this.run = 0;
      return;
    }
    this.run += 1;
    if (this.run < this.o.limit) return;
    const where = this.run === 1 ? `at step ${step}` : `at step ${step} (${this.run} steps in a row)`;
    throw new UserError(`training diverged ${where} of epoch ${epoch}: ${bad.join(', ')}; ${this.advice()}`);
  }

  /** A checkpoint tensor holds NaN or ±Infinity: throws, so that checkpoint is not written. */
  nonFiniteWeight(epoch: number, tensor: string): never {
    throw new UserError(`training diverged in epoch ${epoch}: ${tensor} is no longer finite (NaN or infinite); ${this.advice()}`);
  }

  /** The epoch's val L1 (null: no val split); throws when it is not finite, before that epoch's checkpoint. */
  checkValidation(epoch: number, valL1: number | null): void {
    if (valL1 !== null && !Number.isFinite(valL1)) throw new UserError(`training diverged in epoch ${epoch}: val L1 is ${valL1}; ${this.advice()}`);
  }

  /** Epoch `epoch`'s checkpoint is on disk: it is the one kept from now on. */
  passed(epoch: number, file: string): void {
    this.lastGood = { epoch, file };
  }

  private advice(): string {
    const kept = this.lastGood ? `${this.lastGood.file} (after epoch ${this.lastGood.epoch}) is kept` : 'no checkpoint was written';
    return `the learning rate --lr ${this.o.lr} is probably too high: train again into another --out with --lr ${suggestLearningRate(this.o.lr)}; ${kept}`;
  }
}
