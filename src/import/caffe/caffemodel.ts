/**
 * Reads a binary `.caffemodel` (a serialized caffe.NetParameter) without loading it: the wire format
 * is walked through a small window of the file, and for each layer only its name, its type and,
 * per blob, the shape and WHERE its float data lies are kept. The weights themselves are copied
 * from the caffemodel into the ONNX file later, chunk by chunk (onnx/stream.ts), so converting the
 * 500 MB FCN-8s needs a few MB of memory instead of several copies of the file.
 *
 * That works because a packed `repeated float data = 5` field is a length-delimited run of
 * little-endian IEEE floats, which is exactly ONNX's `raw_data` for a float tensor. The rare
 * encodings that are not (unpacked floats, `double_data`) are decoded into memory instead.
 *
 * Both layer formats are read: current `layer` (NetParameter field 100, LayerParameter) and legacy
 * V1 `layers` (field 2, V1LayerParameter); and both blob shape encodings: `shape { dim }` and the
 * legacy num/channels/height/width.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { UserError } from '../../util/errors.ts';
import { BlobShapeType, V1_TYPE_NAMES } from './caffe-proto.ts';

/** Float data of one blob: a byte range of the caffemodel (little-endian float32) or decoded floats. */
export type BlobData = { kind: 'file'; offset: number; bytes: number } | { kind: 'memory'; data: Float32Array };

export interface CaffeBlob {
  shape: number[];
  count: number;
  data: BlobData;
}

export interface CaffeModelLayer {
  name: string;
  type: string;
  blobs: CaffeBlob[];
}

export interface CaffeModel {
  file: string;
  format: 'layer' | 'layers (V1)';
  layers: Map<string, CaffeModelLayer>;
}

const WINDOW = 1 << 20;

/** Sequential reads over a file through one reusable window. */
class FileCursor {
  pos = 0;
  private readonly buf = Buffer.alloc(WINDOW);
  private bufStart = 0;
  private bufLen = 0;
  constructor(
    private readonly fd: number,
    readonly size: number,
    private readonly file: string,
  ) {}

  private corrupt(what: string): never {
    throw new UserError(`${this.file}: not a valid caffemodel (${what} at byte ${this.pos}); pass the binary .caffemodel, not the .prototxt`);
  }

  private fill(pos: number, need: number): void {
    if (pos >= this.bufStart && pos + need <= this.bufStart + this.bufLen) return;
    this.bufStart = pos;
    this.bufLen = readSync(this.fd, this.buf, 0, Math.min(WINDOW, this.size - pos), pos);
  }

  byte(): number {
    if (this.pos >= this.size) this.corrupt('unexpected end of file');
    this.fill(this.pos, 1);
    return this.buf[this.pos++ - this.bufStart]!;
  }

  /** A varint as a JS number (exact up to 2^53: every length and dimension here fits). */
  varint(): number {
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      const b = this.byte();
      result += (b & 0x7f) * mul;
      if (b < 0x80) return result;
      mul *= 128;
    }
    return this.corrupt('varint too long');
  }

  bytes(n: number): Buffer {
    if (this.pos + n > this.size) this.corrupt('field runs past the end of the file');
    const out = Buffer.alloc(n);
    if (n > 0) readSync(this.fd, out, 0, n, this.pos);
    this.pos += n;
    return out;
  }

  skip(n: number): void {
    if (n < 0 || this.pos + n > this.size) this.corrupt('field runs past the end of the file');
    this.pos += n;
  }

  skipField(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.skip(8);
    else if (wire === 2) this.skip(this.varint());
    else if (wire === 5) this.skip(4);
    else this.corrupt(`wire type ${wire}`);
  }

  /** Length of a length-delimited field and the position where it ends. */
  sub(): number {
    const len = this.varint();
    const end = this.pos + len;
    if (end > this.size) this.corrupt('message runs past the end of the file');
    return end;
  }
}

interface RawBlob {
  shape?: number[];
  legacy: [number, number, number, number];
  runs: { offset: number; bytes: number }[];
  floats: number[];
  doubles: number[];
}

function readBlob(c: FileCursor, end: number): RawBlob {
  const b: RawBlob = { legacy: [0, 0, 0, 0], runs: [], floats: [], doubles: [] };
  while (c.pos < end) {
    const tag = c.varint();
    const field = tag >>> 3;
    const wire = tag & 7;
    if (field === 7 && wire === 2) {
      const len = c.varint();
      const msg = BlobShapeType.toObject(BlobShapeType.decode(c.bytes(len)), { longs: Number }) as { dim?: number[] };
      b.shape = msg.dim ?? [];
    } else if (field >= 1 && field <= 4 && wire === 0) {
      b.legacy[field - 1] = c.varint();
    } else if (field === 5 && wire === 2) {
      const len = c.varint();
      b.runs.push({ offset: c.pos, bytes: len });
      c.skip(len);
    } else if (field === 5 && wire === 5) {
      b.floats.push(c.bytes(4).readFloatLE(0));
    } else if (field === 8 && wire === 2) {
      const raw = c.bytes(c.varint());
      for (let i = 0; i + 8 <= raw.length; i += 8) b.doubles.push(raw.readDoubleLE(i));
    } else if (field === 8 && wire === 1) {
      b.doubles.push(c.bytes(8).readDoubleLE(0));
    } else c.skipField(wire);
  }
  return b;
}

function finishBlob(raw: RawBlob, where: string, fd: number): CaffeBlob {
  // No `shape`: the legacy 4-D num × channels × height × width (Caffe fills absent ones with 0 → 1 here).
  const shape = raw.shape ?? raw.legacy.map((d) => d || 1);
  const count = shape.reduce((a, d) => a * d, 1);
  let data: BlobData;
  const runBytes = raw.runs.reduce((s, r) => s + r.bytes, 0);
  if (raw.runs.length === 1 && raw.floats.length === 0 && raw.doubles.length === 0) {
    data = { kind: 'file', offset: raw.runs[0]!.offset, bytes: raw.runs[0]!.bytes };
  } else if (raw.runs.length > 0 || raw.floats.length > 0) {
    // Split or unpacked float data: gather it (only old or unusual writers produce this).
    const arr = new Float32Array(runBytes / 4 + raw.floats.length);
    let k = 0;
    for (const r of raw.runs) {
      const buf = Buffer.alloc(r.bytes);
      readSync(fd, buf, 0, r.bytes, r.offset);
      for (let i = 0; i + 4 <= r.bytes; i += 4) arr[k++] = buf.readFloatLE(i);
    }
    for (const f of raw.floats) arr[k++] = f;
    data = { kind: 'memory', data: arr };
  } else {
    data = { kind: 'memory', data: Float32Array.from(raw.doubles) };
  }
  const n = data.kind === 'file' ? data.bytes / 4 : data.data.length;
  if (n !== count) throw new UserError(`${where}: blob of shape [${shape.join(', ')}] holds ${n} values instead of ${count}; the caffemodel is damaged`);
  return { shape, count, data };
}

function readLayer(c: FileCursor, end: number, v1: boolean, fd: number, file: string): CaffeModelLayer {
  const nameField = v1 ? 4 : 1;
  const typeField = v1 ? 5 : 2;
  const blobField = v1 ? 6 : 7;
  let name = '';
  let type = '';
  const raws: RawBlob[] = [];
  while (c.pos < end) {
    const tag = c.varint();
    const field = tag >>> 3;
    const wire = tag & 7;
    if (field === nameField && wire === 2) name = c.bytes(c.varint()).toString('utf8');
    else if (field === typeField && !v1 && wire === 2) type = c.bytes(c.varint()).toString('utf8');
    else if (field === typeField && v1 && wire === 0) {
      const t = c.varint();
      type = V1_TYPE_NAMES.get(t) ?? `V1 type ${t}`;
    } else if (field === blobField && wire === 2) raws.push(readBlob(c, c.sub()));
    else if (v1 && field === 1 && wire === 2) {
      throw new UserError(
        `${file}: layer ${JSON.stringify(name || '?')} uses the V0 layer format (Caffe before 2014); upgrade it with Caffe's upgrade_net_proto_binary first`,
      );
    } else c.skipField(wire);
  }
  const where = `${file}: layer "${name}"`;
  return { name, type, blobs: raws.map((r) => finishBlob(r, where, fd)) };
}

/** Scan a caffemodel; the returned blobs point into the file, which must stay unchanged until converted. */
export function scanCaffeModel(file: string): CaffeModel {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(`--caffemodel ${file}: ${code === 'ENOENT' ? 'file not found' : `cannot open (${code})`}`);
  }
  try {
    const size = fstatSync(fd).size;
    const c = new FileCursor(fd, size, file);
    const layers = new Map<string, CaffeModelLayer>();
    let v2 = 0;
    let v1 = 0;
    while (c.pos < size) {
      const tag = c.varint();
      const field = tag >>> 3;
      const wire = tag & 7;
      if ((field === 100 || field === 2) && wire === 2) {
        const end = c.sub();
        const layer = readLayer(c, end, field === 2, fd, file);
        if (field === 100) v2++;
        else v1++;
        // Caffe copies weights by layer name and the first layer of a name wins.
        if (layer.name && !layers.has(layer.name)) layers.set(layer.name, layer);
      } else c.skipField(wire);
    }
    if (v1 + v2 === 0) throw new UserError(`${file}: no layers found; is it a caffemodel (binary NetParameter)?`);
    return { file, format: v2 >= v1 ? 'layer' : 'layers (V1)', layers };
  } finally {
    closeSync(fd);
  }
}
