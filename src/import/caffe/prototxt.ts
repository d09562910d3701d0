/**
 * A small parser for the protobuf text format Caffe's `.prototxt` files use: `key: value`,
 * `key { … }` (or `key: { … }`), repeated keys, `#` comments, single- or double-quoted strings with C
 * escapes, numbers, enum identifiers and `[a, b]` lists. It is schema-free: every key maps to the
 * list of its values in file order, and the caller (net.ts) knows what each field means. That keeps
 * it independent of which Caffe fork wrote the file (unknown fields are kept, not rejected).
 */
import { UserError } from '../../util/errors.ts';

export type TextScalar = string | number | boolean | { readonly ident: string };
export type TextValue = TextScalar | TextMessage;
export interface TextMessage {
  readonly fields: Map<string, TextValue[]>;
}

interface Token {
  kind: 'ident' | 'number' | 'string' | 'punct';
  text: string;
  line: number;
}

function tokenize(src: string, file: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  let line = 1;
  while (i < src.length) {
    const c = src[i];
    if (c === '\n') {
      line++;
      i++;
    } else if (c === ' ' || c === '\t' || c === '\r' || c === ',' || c === ';') {
      // Commas and semicolons separate fields optionally in the text format.
      i++;
    } else if (c === '#') {
      while (i < src.length && src[i] !== '\n') i++;
    } else if ('{}:[]<>'.includes(c)) {
      out.push({ kind: 'punct', text: c, line });
      i++;
    } else if (c === '"' || c === "'") {
      let j = i + 1;
      let s = '';
      while (j < src.length && src[j] !== c) {
        if (src[j] === '\n') throw new UserError(`${file}:${line}: unterminated string`);
        if (src[j] === '\\') {
          const e = src[j + 1];
          const map: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', '"': '"', "'": "'" };
          s += e !== undefined && map[e] !== undefined ? map[e] : (e ?? '');
          j += 2;
        } else s += src[j++];
      }
      if (j >= src.length) throw new UserError(`${file}:${line}: unterminated string`);
      out.push({ kind: 'string', text: s, line });
      i = j + 1;
    } else {
      const m = /^[-+]?(?:\d[\w.+-]*|\.\d[\w.+-]*|inf\b|nan\b)|^[A-Za-z_][\w.]*/i.exec(src.slice(i, i + 256));
      if (!m) throw new UserError(`${file}:${line}: unexpected character '${c}'`);
      const text = m[0];
      const numeric = /^[-+]?(\d|\.\d|inf$|nan$)/i.test(text) && !/^[A-Za-z_]/.test(text);
      out.push({ kind: numeric ? 'number' : 'ident', text, line });
      i += text.length;
    }
  }
  return out;
}

function parseNumber(t: Token, file: string): number {
  const s = t.text.replace(/[fF]$/, '');
  const v = /^[-+]?inf(inity)?$/i.test(s) ? (s.startsWith('-') ? -Infinity : Infinity) : /^[-+]?nan$/i.test(s) ? NaN : Number(s);
  if (Number.isNaN(v) && !/nan/i.test(s)) throw new UserError(`${file}:${t.line}: '${t.text}' is not a number`);
  return v;
}

/** Parse a prototxt document; `file` names it in errors (`file:line: …`). */
export function parsePrototxt(src: string, file: string): TextMessage {
  const toks = tokenize(src, file);
  let p = 0;
  const peek = (): Token | undefined => toks[p];
  const expect = (text: string): void => {
    const t = toks[p];
    if (!t || t.text !== text || t.kind !== 'punct')
      throw new UserError(`${file}:${t?.line ?? 'end'}: expected '${text}', found ${t ? `'${t.text}'` : 'end of file'}`);
    p++;
  };

  const scalar = (): TextScalar => {
    const t = toks[p++];
    if (!t) throw new UserError(`${file}: unexpected end of file (a value is missing)`);
    if (t.kind === 'string') {
      // Adjacent string literals concatenate.
      let s = t.text;
      while (peek()?.kind === 'string') s += toks[p++].text;
      return s;
    }
    if (t.kind === 'number') return parseNumber(t, file);
    if (t.kind === 'ident') {
      if (t.text === 'true' || t.text === 'True') return true;
      if (t.text === 'false' || t.text === 'False') return false;
      return { ident: t.text };
    }
    throw new UserError(`${file}:${t.line}: expected a value, found '${t.text}'`);
  };

  const message = (close: string | null): TextMessage => {
    const fields = new Map<string, TextValue[]>();
    const add = (k: string, v: TextValue): void => {
      const list = fields.get(k);
      if (list) list.push(v);
      else fields.set(k, [v]);
    };
    for (;;) {
      const t = peek();
      if (!t) {
        if (close !== null) throw new UserError(`${file}: unexpected end of file (missing '${close}')`);
        return { fields };
      }
      if (close !== null && t.kind === 'punct' && t.text === close) {
        p++;
        return { fields };
      }
      if (t.kind !== 'ident') throw new UserError(`${file}:${t.line}: expected a field name, found '${t.text}'`);
      p++;
      const key = t.text;
      let n = peek();
      const colon = n?.kind === 'punct' && n.text === ':';
      if (colon) {
        p++;
        n = peek();
      }
      if (n?.kind === 'punct' && (n.text === '{' || n.text === '<')) {
        p++;
        add(key, message(n.text === '{' ? '}' : '>'));
      } else if (n?.kind === 'punct' && n.text === '[') {
        p++;
        while (!(peek()?.kind === 'punct' && peek()!.text === ']')) {
          const q = peek();
          if (q?.kind === 'punct' && q.text === '{') {
            p++;
            add(key, message('}'));
          } else add(key, scalar());
        }
        expect(']');
      } else {
        if (!colon) throw new UserError(`${file}:${t.line}: expected ':' or '{' after '${key}'`);
        add(key, scalar());
      }
    }
  };
  return message(null);
}

// ------------------------------------------------------------------------------------------------
// Typed access

function isMessage(v: TextValue | undefined): v is TextMessage {
  return typeof v === 'object' && v !== null && 'fields' in v;
}

export function all(m: TextMessage | undefined, key: string): TextValue[] {
  return m?.fields.get(key) ?? [];
}

export function child(m: TextMessage | undefined, key: string): TextMessage | undefined {
  const v = all(m, key)[0];
  return isMessage(v) ? v : undefined;
}

export function children(m: TextMessage | undefined, key: string): TextMessage[] {
  return all(m, key).filter(isMessage);
}

function asNumber(v: TextValue, key: string, where: string): number {
  if (typeof v === 'number') return v;
  throw new UserError(`${where}: ${key} must be a number, got ${JSON.stringify(v)}`);
}

export function numbers(m: TextMessage | undefined, key: string, where: string): number[] {
  return all(m, key).map((v) => asNumber(v, key, where));
}

export function num(m: TextMessage | undefined, key: string, dflt: number, where: string): number {
  const vs = all(m, key);
  return vs.length ? asNumber(vs[vs.length - 1], key, where) : dflt;
}

export function bool(m: TextMessage | undefined, key: string, dflt: boolean): boolean {
  const vs = all(m, key);
  const v = vs[vs.length - 1];
  return typeof v === 'boolean' ? v : typeof v === 'number' ? v !== 0 : dflt;
}

export function strings(m: TextMessage | undefined, key: string): string[] {
  return all(m, key).map((v) => (typeof v === 'string' ? v : typeof v === 'object' && 'ident' in v ? v.ident : String(v)));
}

export function str(m: TextMessage | undefined, key: string): string | undefined {
  const vs = strings(m, key);
  return vs[vs.length - 1];
}
