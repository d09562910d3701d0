/**
 * Reads a binary `.caffemodel` (a serialized caffe.NetParameter) without loading it: the wire format
 * is walked in place (util/proto-file.ts), and for each layer only its name, its type and,
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
import { UserError } from '../../util/errors.ts';
import { ProtoFile } from '../../util/proto-file.ts';
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

interface RawBlob {
  shape?: number[];
  legacy: [number, number, number, number];
  runs: { offset: number; bytes: number }[];
  floats: number[];
  doubles: number[];
}

function readBlob(pf: ProtoFile, start: number, end: number): RawBlob {
  const b: RawBlob = { legacy: [0, 0, 0, 0], runs: [], floats: [], doubles: [] };
  for (const f of pf.fields(start, end)) {
    if (f.field === 7 && f.wire === 2) {
      const msg = BlobShapeType.toObject(BlobShapeType.decode(pf.bytes(f.start, f.end)), { longs: Number }) as { dim?: number[] };
      b.shape = msg.dim ?? [];
    } else if (f.field >= 1 && f.field <= 4 && f.wire === 0) b.legacy[f.field - 1] = Number(f.varint!);
    else if (f.field === 5 && f.wire === 2) b.runs.push({ offset: f.start, bytes: f.end - f.start });
    else if (f.field === 5 && f.wire === 5) b.floats.push(pf.bytes(f.start, f.end).readFloatLE(0));
    else if (f.field === 8 && f.wire === 2) {
      const raw = pf.bytes(f.start, f.end);
      for (let i = 0; i + 8 <= raw.length; i += 8) b.doubles.push(raw.readDoubleLE(i));
    } else if (f.field === 8 && f.wire === 1) b.doubles.push(pf.bytes(f.start, f.end).readDoubleLE(0));
  }
  return b;
}

function finishBlob(raw: RawBlob, where: string, pf: ProtoFile): CaffeBlob {
  // No `shape`: the legacy 4-D num × channels × height × width (Caffe fills absent ones with 0 → 1 here).
  const shape = raw.shape ?? raw.legacy.map((d) => d || 1);
  const count = shape.reduce((a, d) => a * d, 1);
  let data: BlobData;
  const runBytes = raw.runs.reduce((s, r) => s + r.bytes, 0);
  if (raw.runs.length === 1 && raw.floats.length === 0 && raw.doubles.length === 0) {
    data = { kind: 'file', offset: raw.runs[0].offset, bytes: raw.runs[0].bytes };
  } else if (raw.runs.length > 0 || raw.floats.length > 0) {
    // Split or unpacked float data: gather it (only old or unusual writers produce this).
    const arr = new Float32Array(runBytes / 4 + raw.floats.length);
    let k = 0;
    for (const r of raw.runs) {
      const buf = pf.bytes(r.offset, r.offset + r.bytes);
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

function readLayer(pf: ProtoFile, start: number, end: number, v1: boolean, file: string): CaffeModelLayer {
  const nameField = v1 ? 4 : 1;
  const typeField = v1 ? 5 : 2;
  const blobField = v1 ? 6 : 7;
  let name = '';
  let type = '';
  const raws: RawBlob[] = [];
  for (const f of pf.fields(start, end)) {
    if (f.field === nameField && f.wire === 2) name = pf.bytes(f.start, f.end).toString('utf8');
    else if (f.field === typeField && !v1 && f.wire === 2) type = pf.bytes(f.start, f.end).toString('utf8');
    else if (f.field === typeField && v1 && f.wire === 0) {
      const t = Number(f.varint!);
      type = V1_TYPE_NAMES.get(t) ?? `V1 type ${t}`;
    } else if (f.field === blobField && f.wire === 2) raws.push(readBlob(pf, f.start, f.end));
    else if (v1 && f.field === 1 && f.wire === 2) {
      throw new UserError(
        `${file}: layer ${JSON.stringify(name || '?')} uses the V0 layer format (Caffe before 2014); upgrade it with Caffe's upgrade_net_proto_binary first`,
      );
    }
  }
  const where = `${file}: layer "${name}"`;
  return { name, type, blobs: raws.map((r) => finishBlob(r, where, pf)) };
}

/** Scan a caffemodel; the returned blobs point into the file, which must stay unchanged until converted. */
export function scanCaffeModel(file: string): CaffeModel {
  let pf: ProtoFile;
  try {
    pf = ProtoFile.open(
      file,
      (what, pos) => new UserError(`${file}: not a valid caffemodel (${what} at byte ${pos}); pass the binary .caffemodel, not the .prototxt`),
    );
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(`--caffemodel ${file}: ${code === 'ENOENT' ? 'file not found' : `cannot open (${code})`}`);
  }
  try {
    const layers = new Map<string, CaffeModelLayer>();
    let v2 = 0;
    let v1 = 0;
    for (const f of pf.fields(0, pf.size)) {
      if ((f.field !== 100 && f.field !== 2) || f.wire !== 2) continue;
      const layer = readLayer(pf, f.start, f.end, f.field === 2, file);
      if (f.field === 100) v2++;
      else v1++;
      // Caffe copies weights by layer name and the first layer of a name wins.
      if (layer.name && !layers.has(layer.name)) layers.set(layer.name, layer);
    }
    if (v1 + v2 === 0) throw new UserError(`${file}: no layers found; is it a caffemodel (binary NetParameter)?`);
    return { file, format: v2 >= v1 ? 'layer' : 'layers (V1)', layers };
  } finally {
    pf.close();
  }
}
