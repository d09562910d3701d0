/** Byte counts for people: one formatter and one parser for every message and size flag. Pure. */

const KiB = 2 ** 10;
const MiB = 2 ** 20;
const GiB = 2 ** 30;

/** `1.5 GiB`, `12.0 MiB`, `512 bytes`. */
export function formatBytes(n: number): string {
  if (n >= GiB) return `${(n / GiB).toFixed(1)} GiB`;
  if (n >= MiB) return `${(n / MiB).toFixed(1)} MiB`;
  return `${n} bytes`;
}

/** `4GiB`, `512MiB`, `1.5G`, `1000000` (bytes) → bytes; undefined for anything else (and for 0). */
export function parseByteSize(s: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(b|k|kb|kib|m|mb|mib|g|gb|gib|t|tb|tib)?\s*$/i.exec(s);
  if (!m) return undefined;
  const unit = (m[2] ?? 'b').toLowerCase()[0];
  const mult = { b: 1, k: KiB, m: MiB, g: GiB, t: 2 ** 40 }[unit as 'b' | 'k' | 'm' | 'g' | 't'];
  const v = Math.floor(Number(m[1]) * mult);
  return v > 0 ? v : undefined;
}
