/**
 * A stand-in for the pix2pix authors' download server on 127.0.0.1: serves given bytes at given
 * paths, answers `Range: bytes=N-` with 206, records every request, and can cut the first answer for
 * a path short (full Content-Length announced, half the body sent, connection closed) to test resuming.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface MirrorRequest {
  path: string;
  range?: string;
}

export interface Mirror {
  url: string;
  requests: MirrorRequest[];
  /** The next GET of this path sends only its first `bytes` bytes, then drops the connection. */
  cutNext(path: string, bytes: number): void;
  close(): Promise<void>;
}

export async function startMirror(files: Record<string, Uint8Array>): Promise<Mirror> {
  const requests: MirrorRequest[] = [];
  const cuts = new Map<string, number>();
  const server = http.createServer((req, res) => {
    const p = req.url ?? '';
    requests.push({ path: p, ...(req.headers.range ? { range: req.headers.range } : {}) });
    const body = files[p];
    if (!body) {
      res.writeHead(404).end('not found');
      return;
    }
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
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
