/**
 * How `infer` sizes its model inputs, decided once per run from the flags and what the model
 * accepts: 'square' resizes every image to N×N (the reference's test-time behaviour); 'native'
 * runs each image at its own size (padded to the model's multiple), optionally in tiles.
 */
import { UserError } from '../util/errors.ts';
import type { ModelIO } from './session.ts';

export type SizeMode = { kind: 'square'; size: number } | { kind: 'native'; multiple: number; tile?: number; overlap: number };

export interface SizeFlags {
  size?: number | 'native';
  tile?: number;
  overlap?: number;
}

/** Parse --size: 'native' or a positive integer. */
export function parseSizeFlag(v: string | number | undefined): number | 'native' | undefined {
  if (v === undefined) return undefined;
  if (String(v).trim().toLowerCase() === 'native') return 'native';
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new UserError(`--size must be 'native' or a positive integer (got '${v}')`);
  return n;
}

export function resolveSizeMode(f: SizeFlags, io: Pick<ModelIO, 'staticSize' | 'size' | 'sizeMultiple'>): SizeMode {
  const requested = f.size ?? (io.staticSize ? io.size : 'native');
  if (requested !== 'native') {
    if (f.tile !== undefined)
      throw new UserError(
        `--tile runs at native size: drop --size ${requested}${io.staticSize ? ` (this model's input is fixed at ${io.size}×${io.size}, so it cannot tile)` : ''}`,
      );
    if (io.staticSize && requested !== io.size) throw new UserError(`--size ${requested} does not fit this model: its input is fixed at ${io.size}×${io.size}`);
    if (requested % io.sizeMultiple !== 0) throw new UserError(`--size ${requested} does not fit this model: sides must be multiples of ${io.sizeMultiple}`);
    return { kind: 'square', size: requested };
  }
  if (io.staticSize) throw new UserError(`--size native does not fit this model: its input is fixed at ${io.size}×${io.size}; use --size ${io.size}`);
  const m = io.sizeMultiple;
  if (f.tile === undefined) {
    if (f.overlap !== undefined) throw new UserError('--overlap needs --tile N');
    return { kind: 'native', multiple: m, overlap: 0 };
  }
  if (!Number.isInteger(f.tile) || f.tile < 1 || f.tile % m !== 0)
    throw new UserError(`--tile ${f.tile} does not fit this model: tiles must be positive multiples of ${m} (2^depth)`);
  const overlap = f.overlap ?? Math.floor(f.tile / 4);
  if (!Number.isInteger(overlap) || overlap < 0 || overlap >= f.tile)
    throw new UserError(`--overlap ${overlap} must be an integer from 0 to ${f.tile - 1} (below --tile)`);
  return { kind: 'native', multiple: m, tile: f.tile, overlap };
}

export function describeSizeMode(mode: SizeMode, io: Pick<ModelIO, 'sizeSource' | 'sizeMultipleSource'>): string {
  if (mode.kind === 'square') return `${mode.size}×${mode.size} (${io.sizeSource})`;
  const base = `native size, padded to multiples of ${mode.multiple} (${io.sizeMultipleSource})`;
  return mode.tile === undefined ? base : `${base}, tiles ${mode.tile}×${mode.tile} overlapping ${mode.overlap}`;
}
