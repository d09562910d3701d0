/**
 * The protobuf wire format read in place from a file: fields are found by positioned reads through a
 * small window, and only the bytes a caller asks for are copied, so a 500 MB model or caffemodel
 * is walked in a few MB. Used by the ONNX readers (model header, graph strides, memory policy) and
 * the caffemodel scanner. Our own code because protobufjs decodes whole messages from memory, which
 * is what must not happen to the weights.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

/** One field of a message: where its value lies in the file, and a varint's value. */
export interface ProtoField {
  field: number;
  wire: number;
  /** Value start and end (the payload of a length-delimited field, the bytes of a fixed one). */
  start: number;
  end: number;
  /** The value of a varint field (wire 0), unsigned 64-bit. */
  varint?: bigint;
}

/** Decode a varint of `buf` at `pos`; throws on a varint longer than 10 bytes or cut by the end. */
export function readVarint(buf: Uint8Array, pos: number): { value: bigint; next: number } {
  let value = 0n;
  let shift = 0n;
  for (let i = pos; i < buf.length && i < pos + 10; i++) {
    const b = buf[i];
    value |= BigInt(b & 0x7f) << shift;
    if ((b & 0x80) === 0) return { value, next: i + 1 };
    shift += 7n;
  }
  throw new Error('bad varint');
}

/** Packed repeated varints (int64 dims, ints attributes) as signed 64-bit values. */
export function packedVarints(buf: Uint8Array): bigint[] {
  const out: bigint[] = [];
  for (let p = 0; p < buf.length;) {
    const v = readVarint(buf, p);
    out.push(BigInt.asIntN(64, v.value));
    p = v.next;
  }
  return out;
}

const WINDOW = 1 << 16;

export class ProtoFile {
  private readonly window = Buffer.alloc(WINDOW);
  private windowStart = 0;
  private windowLength = 0;

  /**
   * @param corrupt words a format error for this file's users: `what` went wrong at byte `pos`
   *   ('unreadable field', 'a field runs past its message').
   */
  private constructor(
    private readonly fd: number,
    readonly size: number,
    private readonly corrupt: (what: string, pos: number) => Error,
  ) {}

  /** Open `file`; errors of the open itself (missing file, permissions) are thrown as fs raised them. */
  static open(file: string, corrupt: (what: string, pos: number) => Error): ProtoFile {
    const fd = openSync(file, 'r');
    return new ProtoFile(fd, fstatSync(fd).size, corrupt);
  }

  close(): void {
    closeSync(this.fd);
  }

  /** A copy of the bytes in [start, end). */
  bytes(start: number, end: number): Buffer {
    if (start >= this.windowStart && end <= this.windowStart + this.windowLength)
      return Buffer.from(this.window.subarray(start - this.windowStart, end - this.windowStart));
    const out = Buffer.alloc(end - start);
    if (out.length > 0) readSync(this.fd, out, 0, out.length, start);
    return out;
  }

  /** Up to 20 bytes at `pos` (a tag and a length), from the window. */
  private head(pos: number): Uint8Array {
    if (pos < this.windowStart || pos + 20 > this.windowStart + this.windowLength) {
      this.windowStart = pos;
      this.windowLength = readSync(this.fd, this.window, 0, Math.min(WINDOW, this.size - pos), pos);
    }
    return this.window.subarray(pos - this.windowStart, Math.min(pos - this.windowStart + 20, this.windowLength));
  }

  /** The fields of the message occupying [start, end), in order. */
  *fields(start: number, end: number): Generator<ProtoField> {
    let pos = start;
    while (pos < end) {
      const f = this.fieldAt(pos);
      if (f.end > end) throw this.corrupt('a field runs past its message', pos);
      yield f;
      pos = f.end;
    }
  }

  private fieldAt(pos: number): ProtoField {
    const h = this.head(pos);
    try {
      const tag = readVarint(h, 0);
      const field = Number(tag.value >> 3n);
      const wire = Number(tag.value & 7n);
      if (wire === 0) {
        const v = readVarint(h, tag.next);
        return { field, wire, start: pos + tag.next, end: pos + v.next, varint: v.value };
      }
      if (wire === 2) {
        const len = readVarint(h, tag.next);
        const s = pos + len.next;
        return { field, wire, start: s, end: s + Number(len.value) };
      }
      if (wire === 1) return { field, wire, start: pos + tag.next, end: pos + tag.next + 8 };
      if (wire === 5) return { field, wire, start: pos + tag.next, end: pos + tag.next + 4 };
    } catch {
      // fall through: an unreadable varint
    }
    throw this.corrupt('unreadable field', pos);
  }
}
