import { describe, expect, it } from 'vitest';
import { PyDict, PyTuple, type PyValue, unpickle } from '../../src/import/pickle.ts';
import { isUserError } from '../../src/util/errors.ts';

const bytes = (...parts: (string | number[])[]): Uint8Array =>
  Uint8Array.from(parts.flatMap((p) => (typeof p === 'string' ? [...p].map((c) => c.charCodeAt(0)) : p)));

function refusal(data: Uint8Array, globals: Map<string, ((a: readonly PyValue[]) => PyValue) | null> = new Map()): string {
  try {
    unpickle(data, { globals });
  } catch (e) {
    expect(isUserError(e)).toBe(true);
    return (e as Error).message;
  }
  throw new Error('expected a refusal');
}

describe('restricted unpickler', () => {
  it('reads the plain data a state_dict pickle holds (protocol 2)', () => {
    // pickle.dumps({'a': (1, 300, -2, 'é'), 'b': [True, None, 2**70, 1.5]}, protocol=2).hex()
    const data = Uint8Array.from(
      Buffer.from(
        '80027d7100285801000000617101284b014d2c014afeffffff5802000000c3a9710274710358010000006271045d710528884e8a09000000000000000040473ff800000000000065752e',
        'hex',
      ),
    );
    const { value, end } = unpickle(data, { globals: new Map() });
    expect(end).toBe(data.length);
    expect(value).toBeInstanceOf(PyDict);
    const d = value as PyDict;
    expect((d.entries.get('a') as PyTuple).items).toEqual([1, 300, -2, 'é']);
    expect(d.entries.get('b')).toEqual([true, null, 2n ** 70n, 1.5]);
  });

  it('refuses the os.system global in one line, before anything could be called', () => {
    // pickle.dumps of an object whose __reduce__ is (os.system, ('ls',)): GLOBAL 'posix system', REDUCE.
    const data = bytes([0x80, 2], 'cposix\nsystem\nq', [0], 'X', [2, 0, 0, 0], 'lsq', [1], [0x85], 'q', [2], 'Rq', [3], '.');
    const msg = refusal(data);
    expect(msg).toBe('refusing to unpickle: global posix.system is not allowed (only plain state_dict data is read; nothing in the file is executed)');
    expect(msg).not.toContain('\n');
    expect(refusal(bytes([0x80, 2], 'cos\nsystem\n', ')R.'))).toContain('global os.system is not allowed');
  });

  it('refuses protocol-4 STACK_GLOBAL lookups of builtins.eval', () => {
    const data = bytes([0x80, 4], [0x8c, 8], 'builtins', [0x94], [0x8c, 4], 'eval', [0x94, 0x93], '.');
    expect(refusal(data)).toContain('global builtins.eval is not allowed');
  });

  it('names refused opcodes (INST, NEWOBJ) and their offset', () => {
    expect(refusal(bytes([0x80, 2], '(iposix\nsystem\n.'))).toContain("opcode 0x69 'i' (INST) at byte 3 is not allowed");
    expect(refusal(bytes([0x80, 2], 'ccollections\nOrderedDict\n)', [0x81], '.'), new Map([['collections.OrderedDict', null]]))).toContain('(NEWOBJ)');
  });

  it('lets an allowed class be referenced but not called when its handler is null', () => {
    const globals = new Map([['torch.FloatStorage', null]]);
    expect(unpickle(bytes([0x80, 2], 'ctorch\nFloatStorage\n.'), { globals }).value).toMatchObject({ name: 'torch.FloatStorage' });
    expect(refusal(bytes([0x80, 2], 'ctorch\nFloatStorage\n)R.'), globals)).toContain('global torch.FloatStorage may not be called');
  });

  it('refuses BUILD on anything but a dict and persistent ids when no loader is given', () => {
    expect(refusal(bytes([0x80, 2], ']}b.'))).toContain('BUILD');
    expect(refusal(bytes([0x80, 2], 'NQ.'))).toContain('BINPERSID');
  });

  it('reports truncated data as a format error, not a crash', () => {
    expect(refusal(bytes([0x80, 2], 'X', [9, 0, 0, 0], 'ab'))).toContain('truncated');
  });
});
