/**
 * A minimal ZIP reader for `torch.save` archives: the central directory is read, then each entry's
 * bytes are located through its local header. torch writes entries "stored" (uncompressed, aligned
 * so tensors can be memory-mapped); deflated entries are inflated with node's zlib in case a tool
 * re-zipped the file. ZIP64 sizes/offsets are understood (archives over 4 GiB). No encryption, no
 * multi-disk archives: anything else is a one-line refusal.
 *
 * Memory is bounded by what the archive declares, never by what its data inflates to: zlib inflates
 * in chunks and stops (maxOutputLength) as soon as an entry's output passes its declared size, so a
 * "zip bomb" entry fails after at most that many bytes; and the declared sizes of all deflated
 * entries together must fit a global cap (DEFAULT_MAX_INFLATED_BYTES) before anything is inflated.
 */
import * as os from 'node:os';
import { inflateRawSync } from 'node:zlib';
import { UserError } from '../util/errors.ts';
import { formatBytes } from '../util/bytes.ts';

const EOCD_SIG = 0x06054b50;
const ZIP64_EOCD_SIG = 0x06064b50;
const ZIP64_LOCATOR_SIG = 0x07064b50;
const CENTRAL_SIG = 0x02014b50;
const LOCAL_SIG = 0x04034b50;
const ZIP64_EXTRA_ID = 0x0001;
const U32_MAX = 0xffffffff;

export interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
}

export function isZip(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04;
}

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function u64(dv: DataView, at: number): number {
  const v = dv.getBigUint64(at, true);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new UserError('zip: a 64-bit size or offset is too large');
  return Number(v);
}

/** The end-of-central-directory record sits in the last 22 + 65535 (comment) bytes. */
function findEocd(dv: DataView): number {
  const stop = Math.max(0, dv.byteLength - 22 - 0xffff);
  for (let p = dv.byteLength - 22; p >= stop; p--) if (dv.getUint32(p, true) === EOCD_SIG) return p;
  throw new UserError('zip: no end-of-central-directory record (the file is truncated or not a zip archive)');
}

function centralDirectory(dv: DataView): { offset: number; count: number } {
  const eocd = findEocd(dv);
  let count = dv.getUint16(eocd + 10, true);
  let offset = dv.getUint32(eocd + 16, true);
  const locator = eocd - 20;
  if ((offset === U32_MAX || count === 0xffff) && locator >= 0 && dv.getUint32(locator, true) === ZIP64_LOCATOR_SIG) {
    const z64 = u64(dv, locator + 8);
    if (dv.getUint32(z64, true) !== ZIP64_EOCD_SIG) throw new UserError('zip: broken ZIP64 end-of-central-directory record');
    count = u64(dv, z64 + 32);
    offset = u64(dv, z64 + 48);
  }
  return { offset, count };
}

/** Replace 0xFFFFFFFF fields from the ZIP64 extra field, in the order the spec lists them. */
function applyZip64(dv: DataView, extraStart: number, extraLen: number, e: ZipEntry): void {
  let p = extraStart;
  while (p + 4 <= extraStart + extraLen) {
    const id = dv.getUint16(p, true);
    const len = dv.getUint16(p + 2, true);
    if (id === ZIP64_EXTRA_ID) {
      let q = p + 4;
      const next = (): number => {
        const v = u64(dv, q);
        q += 8;
        return v;
      };
      if (e.size === U32_MAX) e.size = next();
      if (e.compressedSize === U32_MAX) e.compressedSize = next();
      if (e.localHeaderOffset === U32_MAX) e.localHeaderOffset = next();
      return;
    }
    p += 4 + len;
  }
}

/** Every entry of the archive, from its central directory. */
export function listZip(bytes: Uint8Array): ZipEntry[] {
  const dv = view(bytes);
  const { offset, count } = centralDirectory(dv);
  const entries: ZipEntry[] = [];
  let p = offset;
  const decoder = new TextDecoder();
  for (let i = 0; i < count; i++) {
    if (p + 46 > bytes.length || dv.getUint32(p, true) !== CENTRAL_SIG) throw new UserError(`zip: central directory entry ${i} is damaged`);
    const flags = dv.getUint16(p + 8, true);
    if (flags & 1) throw new UserError('zip: encrypted entries are not supported');
    const nameLen = dv.getUint16(p + 28, true);
    const extraLen = dv.getUint16(p + 30, true);
    const commentLen = dv.getUint16(p + 32, true);
    const e: ZipEntry = {
      name: decoder.decode(bytes.subarray(p + 46, p + 46 + nameLen)),
      method: dv.getUint16(p + 10, true),
      compressedSize: dv.getUint32(p + 20, true),
      size: dv.getUint32(p + 24, true),
      localHeaderOffset: dv.getUint32(p + 42, true),
    };
    applyZip64(dv, p + 46 + nameLen, extraLen, e);
    entries.push(e);
    p += 46 + nameLen + extraLen + commentLen;
  }
  return entries;
}

/**
 * Default cap on the bytes all deflated entries of one archive may inflate to: 4 GiB, or a quarter
 * of the machine's memory when that is less (the inflated storages live beside the file itself and
 * the ONNX model made from them).
 */
function defaultMaxInflatedBytes(totalMemory = os.totalmem()): number {
  return Math.min(4 * 2 ** 30, Math.floor(totalMemory / 4));
}

/** Refuse, before inflating anything, an archive whose deflated entries declare more than `maxBytes` in all. */
export function checkInflatedTotal(entries: readonly ZipEntry[], maxBytes = defaultMaxInflatedBytes()): void {
  const total = entries.filter((e) => e.method === 8).reduce((s, e) => s + e.size, 0);
  if (total > maxBytes)
    throw new UserError(`zip: compressed entries declare ${formatBytes(total)} in all, over the ${formatBytes(maxBytes)} this reader inflates`);
}

/** Inflate `raw`, stopping as soon as the output passes the entry's declared size. */
function inflateCapped(raw: Uint8Array, e: ZipEntry): Uint8Array {
  let out: Buffer;
  try {
    // One byte of headroom: an entry that inflates to more than it declares must fail, not be cut.
    out = inflateRawSync(raw, { maxOutputLength: Math.max(1, e.size + 1) });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE')
      throw new UserError(`zip: entry ${e.name} inflates to more than the ${e.size} bytes it declares (damaged or hostile archive)`);
    throw new UserError(`zip: entry ${e.name} is not valid deflate data (${(err as Error).message})`);
  }
  if (out.length !== e.size) throw new UserError(`zip: entry ${e.name} inflates to ${out.length} bytes, expected ${e.size}`);
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

/** An entry's bytes (a view into `bytes` when stored, a new buffer of at most its declared size when deflated). */
export function readZipEntry(bytes: Uint8Array, e: ZipEntry): Uint8Array {
  const dv = view(bytes);
  const h = e.localHeaderOffset;
  if (h + 30 > bytes.length || dv.getUint32(h, true) !== LOCAL_SIG) throw new UserError(`zip: local header of ${e.name} is damaged`);
  // The local header's name/extra lengths may differ from the central ones (torch pads the extra field to align data).
  const start = h + 30 + dv.getUint16(h + 26, true) + dv.getUint16(h + 28, true);
  const end = start + e.compressedSize;
  if (end > bytes.length) throw new UserError(`zip: entry ${e.name} runs past the end of the file (truncated download?)`);
  const raw = bytes.subarray(start, end);
  if (e.method === 0) return raw;
  if (e.method === 8) return inflateCapped(raw, e);
  throw new UserError(`zip: entry ${e.name} uses compression method ${e.method}; only stored (0) and deflate (8) are supported`);
}
