/** Shared helpers for the PyTorch fixtures written by scripts/make-pth-fixture.py. */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';

export const FIXTURES = path.join(__dirname, 'fixtures');

export function fixture(name: string): Uint8Array {
  return new Uint8Array(readFileSync(path.join(FIXTURES, name)));
}

export function fixtureF32(name: string): Float32Array {
  const b = readFileSync(path.join(FIXTURES, name));
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

/** The script's `fixture_input`: x[c,h,w] = ((7c + 13h + 29w) mod 64) / 32 − 1, NCHW batch 1. */
export function fixtureInput(channels: number, side: number): { data: Float32Array; dims: [number, number, number, number] } {
  const data = new Float32Array(channels * side * side);
  for (let c = 0; c < channels; c++) {
    for (let h = 0; h < side; h++) {
      for (let w = 0; w < side; w++) data[(c * side + h) * side + w] = ((7 * c + 13 * h + 29 * w) % 64) / 32 - 1;
    }
  }
  return { data, dims: [1, channels, side, side] };
}
