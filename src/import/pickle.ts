/**
 * A restricted reader for Python pickles: only the opcodes a `torch.save`d state_dict uses (protocols
 * 2–5) and only globals the caller lists. It builds plain data (numbers, strings, tuples, lists,
 * dicts) and asks the caller's handlers for everything else, so a pickle can never run code here:
 * any other opcode or global is refused with a one-line UserError naming it.
 */
import { UserError } from '../util/errors.ts';

/** A global that was looked up but not called (a class used as a tag, e.g. torch.FloatStorage). */
export class PyRef {
  constructor(readonly name: string) {}
}

export class PyTuple {
  constructor(readonly items: readonly PyValue[]) {}
}

export type PyKey = string | number | bigint | boolean | null;

/** dict or collections.OrderedDict (insertion order kept either way); `state` is what BUILD set. */
export class PyDict {
  readonly entries = new Map<PyKey, PyValue>();
  state: PyValue | undefined;
  constructor(readonly className: string = 'dict') {}
}

/** Values made by the caller's handlers (tensors, storages); the reader only passes them around. */
export abstract class PyExternal {}

export type PyValue = null | boolean | number | bigint | string | Uint8Array | PyValue[] | PyTuple | PyDict | PyRef | PyExternal;

export interface PickleOptions {
  /**
   * The allowed globals, `module.name` → what calling it (REDUCE) returns, or null for a global that
   * may only be referenced (passed as a value), never called.
   */
  globals: ReadonlyMap<string, ((args: readonly PyValue[]) => PyValue) | null>;
  /** BINPERSID: resolves a persistent id (torch's storage references). Absent: the opcode is refused. */
  persistentLoad?: (pid: PyValue) => PyValue;
}

export interface PickleResult {
  value: PyValue;
  /** Offset just past the STOP opcode (the legacy torch format stores several pickles back to back). */
  end: number;
}

/** Names of opcodes we refuse, so the message says what the file tried to do. */
const REFUSED_NAMES: Record<number, string> = {
  0x69: 'INST',
  0x6f: 'OBJ',
  0x81: 'NEWOBJ',
  0x92: 'NEWOBJ_EX',
  0x50: 'PERSID',
  0x82: 'EXT1',
  0x83: 'EXT2',
  0x84: 'EXT4',
  0x49: 'INT',
  0x4c: 'LONG',
  0x46: 'FLOAT',
  0x53: 'STRING',
  0x56: 'UNICODE',
  0x70: 'PUT',
  0x67: 'GET',
  0x8f: 'EMPTY_SET',
  0x90: 'ADDITEMS',
  0x91: 'FROZENSET',
  0x96: 'BYTEARRAY8',
  0x97: 'NEXT_BUFFER',
  0x98: 'READONLY_BUFFER',
};

const MARK = Symbol('mark');
type StackItem = PyValue | typeof MARK;

function refuse(what: string): never {
  throw new UserError(`refusing to unpickle: ${what} (only plain state_dict data is read; nothing in the file is executed)`);
}

function describeOpcode(op: number): string {
  const ch = op >= 0x20 && op < 0x7f ? ` '${String.fromCharCode(op)}'` : '';
  return `opcode 0x${op.toString(16).padStart(2, '0')}${ch}${REFUSED_NAMES[op] ? ` (${REFUSED_NAMES[op]})` : ''}`;
}

function toKey(v: PyValue): PyKey {
  if (v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return v;
  return refuse('a dict key that is not a string or number');
}

/** Little-endian two's-complement integer of n bytes (LONG1/LONG4). */
function readLong(b: Uint8Array): number | bigint {
  if (b.length === 0) return 0;
  let v = 0n;
  for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
  if (b[b.length - 1] & 0x80) v -= 1n << BigInt(8 * b.length);
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

class Reader {
  pos: number;
  private readonly dv: DataView;
  constructor(
    readonly bytes: Uint8Array,
    start: number,
  ) {
    this.pos = start;
    this.dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  need(n: number): void {
    if (this.pos + n > this.bytes.length) throw new UserError('pickle: data ends in the middle of an opcode (truncated file?)');
  }
  u8(): number {
    this.need(1);
    return this.bytes[this.pos++];
  }
  u16(): number {
    this.need(2);
    const v = this.dv.getUint16(this.pos, true);
    this.pos += 2;
    return v;
  }
  i32(): number {
    this.need(4);
    const v = this.dv.getInt32(this.pos, true);
    this.pos += 4;
    return v;
  }
  u32(): number {
    this.need(4);
    const v = this.dv.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }
  u64(): number {
    this.need(8);
    const v = this.dv.getBigUint64(this.pos, true);
    this.pos += 8;
    if (v > BigInt(this.bytes.length)) throw new UserError('pickle: a length runs past the end of the data');
    return Number(v);
  }
  f64be(): number {
    this.need(8);
    const v = this.dv.getFloat64(this.pos, false);
    this.pos += 8;
    return v;
  }
  take(n: number): Uint8Array {
    this.need(n);
    const out = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  line(): string {
    const nl = this.bytes.indexOf(0x0a, this.pos);
    if (nl < 0) throw new UserError('pickle: unterminated GLOBAL name');
    const s = new TextDecoder().decode(this.bytes.subarray(this.pos, nl));
    this.pos = nl + 1;
    return s;
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
const latin1 = new TextDecoder('latin1');

/** Unpickle one object starting at `start`. */
export function unpickle(bytes: Uint8Array, opts: PickleOptions, start = 0): PickleResult {
  const r = new Reader(bytes, start);
  const stack: StackItem[] = [];
  const memo = new Map<number, PyValue>();

  const pop = (): PyValue => {
    const v = stack.pop();
    if (v === undefined || v === MARK) throw new UserError('pickle: stack underflow (malformed data)');
    return v;
  };
  const top = (): PyValue => {
    const v = stack[stack.length - 1];
    if (v === undefined || v === MARK) throw new UserError('pickle: stack underflow (malformed data)');
    return v;
  };
  const popMark = (): PyValue[] => {
    const i = stack.lastIndexOf(MARK);
    if (i < 0) throw new UserError('pickle: MARK expected (malformed data)');
    const items = stack.splice(i) as PyValue[];
    items.shift();
    return items;
  };
  const global = (module: string, name: string): PyRef => {
    const full = `${module}.${name}`;
    if (!opts.globals.has(full)) refuse(`global ${full} is not allowed`);
    return new PyRef(full);
  };
  const setItems = (dict: PyValue, items: PyValue[]): void => {
    if (!(dict instanceof PyDict)) refuse('SETITEM(S) on something that is not a dict');
    for (let i = 0; i + 1 < items.length; i += 2) dict.entries.set(toKey(items[i]), items[i + 1]);
  };
  const append = (list: PyValue, items: PyValue[]): void => {
    if (!Array.isArray(list)) refuse('APPEND(S) on something that is not a list');
    list.push(...items);
  };

  for (;;) {
    const op = r.u8();
    switch (op) {
      case 0x80: // PROTO
        r.u8();
        break;
      case 0x95: // FRAME: a length hint only
        r.take(8);
        break;
      case 0x2e: // STOP
        return { value: pop(), end: r.pos };
      case 0x28: // MARK
        stack.push(MARK);
        break;
      case 0x30: // POP
        stack.pop();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        stack.push(top());
        break;
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x4a: // BININT
        stack.push(r.i32());
        break;
      case 0x4b: // BININT1
        stack.push(r.u8());
        break;
      case 0x4d: // BININT2
        stack.push(r.u16());
        break;
      case 0x8a: // LONG1
        stack.push(readLong(r.take(r.u8())));
        break;
      case 0x8b: // LONG4
        stack.push(readLong(r.take(r.u32())));
        break;
      case 0x47: // BINFLOAT
        stack.push(r.f64be());
        break;
      case 0x58: // BINUNICODE
        stack.push(utf8.decode(r.take(r.u32())));
        break;
      case 0x8c: // SHORT_BINUNICODE
        stack.push(utf8.decode(r.take(r.u8())));
        break;
      case 0x8d: // BINUNICODE8
        stack.push(utf8.decode(r.take(r.u64())));
        break;
      case 0x54: // BINSTRING (Python 2 str)
        stack.push(latin1.decode(r.take(r.u32())));
        break;
      case 0x55: // SHORT_BINSTRING
        stack.push(latin1.decode(r.take(r.u8())));
        break;
      case 0x42: // BINBYTES
        stack.push(r.take(r.u32()));
        break;
      case 0x43: // SHORT_BINBYTES
        stack.push(r.take(r.u8()));
        break;
      case 0x8e: // BINBYTES8
        stack.push(r.take(r.u64()));
        break;
      case 0x29: // EMPTY_TUPLE
        stack.push(new PyTuple([]));
        break;
      case 0x74: // TUPLE
        stack.push(new PyTuple(popMark()));
        break;
      case 0x85: // TUPLE1
        stack.push(new PyTuple([pop()]));
        break;
      case 0x86: {
        // TUPLE2
        const b = pop();
        stack.push(new PyTuple([pop(), b]));
        break;
      }
      case 0x87: {
        // TUPLE3
        const c = pop();
        const b = pop();
        stack.push(new PyTuple([pop(), b, c]));
        break;
      }
      case 0x5d: // EMPTY_LIST
        stack.push([]);
        break;
      case 0x6c: // LIST
        stack.push(popMark());
        break;
      case 0x61: {
        // APPEND
        const v = pop();
        append(top(), [v]);
        break;
      }
      case 0x65: {
        // APPENDS
        const items = popMark();
        append(top(), items);
        break;
      }
      case 0x7d: // EMPTY_DICT
        stack.push(new PyDict());
        break;
      case 0x64: {
        // DICT
        const d = new PyDict();
        setItems(d, popMark());
        stack.push(d);
        break;
      }
      case 0x73: {
        // SETITEM
        const v = pop();
        const k = pop();
        setItems(top(), [k, v]);
        break;
      }
      case 0x75: {
        // SETITEMS
        const items = popMark();
        setItems(top(), items);
        break;
      }
      case 0x71: // BINPUT
        memo.set(r.u8(), top());
        break;
      case 0x72: // LONG_BINPUT
        memo.set(r.u32(), top());
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x68: // BINGET
      case 0x6a: {
        // LONG_BINGET
        const i = op === 0x68 ? r.u8() : r.u32();
        const v = memo.get(i);
        if (v === undefined) throw new UserError(`pickle: memo entry ${i} is used before it is set (malformed data)`);
        stack.push(v);
        break;
      }
      case 0x63: {
        // GLOBAL
        const module = r.line();
        stack.push(global(module, r.line()));
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') refuse('STACK_GLOBAL with a non-string name');
        stack.push(global(module, name));
        break;
      }
      case 0x52: {
        // REDUCE
        const args = pop();
        const fn = pop();
        if (!(fn instanceof PyRef)) refuse('REDUCE of something that is not an allowed global');
        if (!(args instanceof PyTuple)) refuse(`REDUCE of ${fn.name} without an argument tuple`);
        const handler = opts.globals.get(fn.name);
        if (!handler) refuse(`global ${fn.name} may not be called`);
        stack.push(handler(args.items));
        break;
      }
      case 0x62: {
        // BUILD: only a dict's attribute state (an OrderedDict's `_metadata`) is accepted, and only stored
        const state = pop();
        const obj = top();
        if (!(obj instanceof PyDict)) refuse('BUILD (setting object state) on something that is not a dict');
        obj.state = state;
        break;
      }
      case 0x51: {
        // BINPERSID
        if (!opts.persistentLoad) refuse('persistent ids (BINPERSID) are not expected here');
        stack.push(opts.persistentLoad(pop()));
        break;
      }
      default:
        refuse(`${describeOpcode(op)} at byte ${r.pos - 1} is not allowed`);
    }
  }
}
