/**
 * A stand-in for the pix2pix authors' download server on 127.0.0.1: serves given bytes at given
 * paths with a strong ETag (a hash of the bytes), answers `Range: bytes=N-` with 206 unless an
 * If-Range names another ETag (then 200 with the whole file, as RFC 9110 says), records every
 * request, can cut the first answer for a path short (full Content-Length announced, half the body
 * sent, connection closed) to test resuming, and can replace a file between two requests.
 */
import { createHash } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface MirrorRequest {
  path: string;
  range?: string;
  ifRange?: string;
}

export interface Mirror {
  url: string;
  requests: MirrorRequest[];
  /** The next GET of this path sends only its first `bytes` bytes, then drops the connection. */
  cutNext(path: string, bytes: number): void;
  /** Serve `bytes` at `path` from now on (a file changed on the server: a new ETag). */
  replace(path: string, bytes: Uint8Array): void;
  close(): Promise<void>;
}

/** The ETag the mirror sends for `body`. */
export const etagOf = (body: Uint8Array): string => `"${createHash('sha256').update(body).digest('hex').slice(0, 16)}"`;

export async function startMirror(given: Record<string, Uint8Array>): Promise<Mirror> {
  const files = { ...given };
  const requests: MirrorRequest[] = [];
  const cuts = new Map<string, number>();
  const server = http.createServer((req, res) => {
    const p = req.url ?? '';
    const ifRange = req.headers['if-range'] as string | undefined;
    requests.push({ path: p, ...(req.headers.range ? { range: req.headers.range } : {}), ...(ifRange ? { ifRange } : {}) });
    const body = files[p];
    if (!body) {
      res.writeHead(404).end('not found');
      return;
    }
    const etag = etagOf(body);
    res.setHeader('ETag', etag);
    const m = ifRange === undefined || ifRange === etag ? /^bytes=(\d+)-$/.exec(req.headers.range ?? '') : null;
    const start = m ? Number(m[1]) : 0;
    if (start >= body.length && m) {
      res.writeHead(416, { 'Content-Range': `bytes */${body.length}` }).end();
      return;
    }
    const part = body.subarray(start);
    res.writeHead(m ? 206 : 200, {
      'Content-Length': String(part.length),
      ...(m ? { 'Content-Range': `bytes ${start}-${body.length - 1}/${body.length}` } : {}),
    });
    const cut = cuts.get(p);
    if (cut !== undefined) {
      cuts.delete(p);
      // The pause lets the client read what was sent: fetch drops bytes still queued when the body errors.
      res.write(part.subarray(0, cut), () => setTimeout(() => res.destroy(), 300));
      return;
    }
    res.end(part);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    cutNext: (p, bytes) => cuts.set(p, bytes),
    replace: (p, bytes) => void (files[p] = bytes),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** A 127.0.0.1 URL where nothing listens (a port that was free a moment ago). */
export async function deadUrl(): Promise<string> {
  const s = http.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}
