/**
 * max |got − want| / max(minScale, max |want|): the error relative to the reference's scale, so
 * near-zero entries do not blow it up; the absolute error when that scale is 0.
 */
export function relativeError(got: ArrayLike<number>, want: ArrayLike<number>, minScale = 0): number {
  if (got.length !== want.length) throw new Error(`relativeError: ${got.length} values against ${want.length}`);
  let diff = 0;
  let scale = minScale;
  for (let i = 0; i < want.length; i++) {
    diff = Math.max(diff, Math.abs(got[i] - want[i]));
    scale = Math.max(scale, Math.abs(want[i]));
  }
  return scale === 0 ? diff : diff / scale;
}
