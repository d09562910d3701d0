/**
 * Hand-made ustar archives for the extraction tests: entries a well-behaved packer (node-tar's create)
 * would never write — `../` paths, absolute paths, links out, devices — written byte by byte.
 */
import { gzipSync } from 'node:zlib';

export interface RawEntry {
  path: string;
  /** ustar type flag: '0' file, '5' folder, '2' symlink, '1' hard link, '3' char device, '6' FIFO. */
  type?: string;
  body?: Uint8Array;
  linkpath?: string;
}

function header(e: RawEntry): Buffer {
  const h = Buffer.alloc(512);
  const size = e.body?.length ?? 0;
  h.write(e.path, 0, 100, 'utf8');
  h.write('0000644\0', 100, 'ascii');
  h.write('0000000\0', 108, 'ascii');
  h.write('0000000\0', 116, 'ascii');
  h.write(`${size.toString(8).padStart(11, '0')}\0`, 124, 'ascii');
  h.write('00000000000\0', 136, 'ascii');
  h.write('        ', 148, 'ascii');
  h.write(e.type ?? '0', 156, 'ascii');
  if (e.linkpath) h.write(e.linkpath, 157, 100, 'utf8');
  h.write('ustar\0', 257, 'ascii');
  h.write('00', 263, 'ascii');
  let sum = 0;
  for (const byte of h) sum += byte;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  return h;
}

/** A gzipped tar of `entries`, in order. */
export function rawTarGz(entries: readonly RawEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    parts.push(header(e));
    if (e.body?.length) {
      parts.push(Buffer.from(e.body));
      parts.push(Buffer.alloc((512 - (e.body.length % 512)) % 512));
    }
  }
  parts.push(Buffer.alloc(1024));
  return gzipSync(Buffer.concat(parts));
}
