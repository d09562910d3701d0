/**
 * `pix2pix serve`: a node:http server for the playground page (web/dist), the onnxruntime-web files
 * copied beside it, and one model at /model.onnx. Every response carries COOP/COEP, which make the
 * page cross-origin isolated so onnxruntime-web may use wasm threads (SharedArrayBuffer). It serves
 * nothing outside its folder: `..` segments (plain or percent-encoded), backslashes, NUL bytes and
 * symlinks leading out are all refused with 404. Source maps (*.map) are served only with `dev`. Files
 * answer single byte-range requests (206; 416 when unsatisfiable; range-parser reads the header), so a
 * browser or download tool can resume a large model.
 */
import { createReadStream, promises as fsp } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import parseRange from 'range-parser';
import { readOnnxFileHeader } from '../runtime/model-file.ts';
import { UserError, errorMessage } from '../util/errors.ts';

const DEFAULT_PORT = 8080;
const DEFAULT_HOST = '127.0.0.1';
/** Where `npm run build:web` puts the page. */
const DEFAULT_ROOT = fileURLToPath(new URL('../../web/dist/', import.meta.url));
/** The URL path the page fetches the served model from. */
const MODEL_PATH = '/model.onnx';

const MIME: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.svg': 'image/svg+xml',
  '.onnx': 'application/octet-stream',
};

export function mimeType(file: string): string {
  return MIME[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
}

/** Headers on every response: cross-origin isolation (wasm threads) and no MIME sniffing. */
const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'X-Content-Type-Options': 'nosniff',
};

/**
 * The file under `root` a request path names, or null when it names none: the path must start with
 * '/', decode cleanly, and contain no '..' segment, backslash or NUL after decoding. A path ending
 * in '/' names its index.html. Symlinks are checked separately (`insideRoot`).
 */
export function resolveRequestPath(root: string, requestPath: string): string | null {
  if (!requestPath.startsWith('/')) return null;
  let decoded: string;
  try {
    decoded = decodeURIComponent(requestPath);
  } catch {
    return null;
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return null;
  const segments = decoded.split('/');
  if (segments.some((s) => s === '..' || s === '.')) return null;
  const rel = segments.filter((s) => s.length > 0).join('/');
  const file = path.resolve(root, rel.length === 0 || decoded.endsWith('/') ? path.join(rel, 'index.html') : rel);
  return insideRoot(root, file) ? file : null;
}

function insideRoot(root: string, file: string): boolean {
  const r = path.resolve(root);
  return file === r || file.startsWith(r + path.sep);
}

/** The real path of `file` when it exists, is a regular file, and (symlinks followed) stays under realRoot. */
async function realFileInside(realRoot: string, file: string): Promise<string | null> {
  try {
    const real = await fsp.realpath(file);
    if (!insideRoot(realRoot, real)) return null;
    return (await fsp.stat(real)).isFile() ? real : null;
  } catch {
    return null;
  }
}

export interface ServeOptions {
  model: string;
  port?: number;
  host?: string;
  /** The built page (default web/dist, built on first use when missing). */
  root?: string;
  /** Serve source maps (`pix2pix serve --dev`); without it *.map answers 404. */
  dev?: boolean;
  log?: (line: string) => void;
}

export interface RunningServer {
  url: string;
  port: number;
  host: string;
  /** The model's metadata, as the page will read it. */
  metadata: Record<string, string>;
  close(): Promise<void>;
}

async function checkModel(model: string): Promise<{ size: number; metadata: Record<string, string> }> {
  const st = await fsp.stat(model).catch(() => null);
  if (!st) throw new UserError(`model not found: ${model} (make one with \`pix2pix export --checkpoint runs/NAME\`)`);
  if (!st.isFile()) throw new UserError(`--model ${model} is not a file`);
  const header = await readOnnxFileHeader(model);
  if (header.metadata.net === 'D') throw new UserError(`--model ${model} is a discriminator export; serve a generator (pix2pix export --net G)`);
  return { size: st.size, metadata: header.metadata };
}

/** The page's folder, built now when it is the default one and missing. */
async function pageRoot(root: string | undefined, log: (line: string) => void): Promise<string> {
  const dir = root ?? DEFAULT_ROOT;
  const index = path.join(dir, 'index.html');
  if (
    await fsp.stat(index).then(
      (s) => s.isFile(),
      () => false,
    )
  )
    return fsp.realpath(dir);
  if (root !== undefined) throw new UserError(`${dir} has no index.html: build the page with \`npm run build:web\``);
  log('the page is not built yet: building it (npm run build:web)');
  try {
    const build = (await import(new URL('../../web/build.mjs', import.meta.url).href)) as { buildWeb(o: { outdir: string }): Promise<string> };
    await build.buildWeb({ outdir: dir });
  } catch (e) {
    throw new UserError(`cannot build the page (${errorMessage(e).split('\n')[0]}): run \`npm run build:web\` in a checkout with dev dependencies`);
  }
  return fsp.realpath(dir);
}

function checkPort(port: number): void {
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UserError(`--port must be an integer from 0 to 65535 (got ${port}); 0 picks a free port`);
}

function formatUrl(host: string, port: number): string {
  const h = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return `http://${h.includes(':') ? `[${h}]` : h}:${port}/`;
}

export async function startServer(o: ServeOptions): Promise<RunningServer> {
  const log = o.log ?? (() => {});
  const host = o.host ?? DEFAULT_HOST;
  const port = o.port ?? DEFAULT_PORT;
  checkPort(port);
  const model = path.resolve(o.model);
  const { size: modelSize, metadata } = await checkModel(model);
  // Bind first: a busy port is reported before any time is spent building the page.
  let root = '';
  const server = http.createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) send(res, 500, `internal error: ${errorMessage(e)}`);
      else res.destroy();
    });
  });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'only GET and HEAD', { Allow: 'GET, HEAD' });
    const pathname = (req.url ?? '').split(/[?#]/)[0];
    if (pathname === MODEL_PATH) {
      return sendFile(req, res, model, modelSize, { 'X-Model-Name': encodeURIComponent(path.basename(model)), 'Cache-Control': 'no-cache' });
    }
    // Until the page's folder is resolved there is no root to serve from (never the cwd).
    if (root === '') return send(res, 503, 'starting: the page is being built', { 'Retry-After': '1' });
    const file = resolveRequestPath(root, pathname);
    const real = file && (o.dev === true || !file.endsWith('.map')) && (await realFileInside(root, file));
    if (!real) return send(res, 404, 'not found');
    const st = await fsp.stat(real);
    return sendFile(req, res, real, st.size, { 'Cache-Control': 'no-cache' });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EADDRINUSE') reject(new UserError(`port ${port} on ${host} is busy: choose another with --port, or --port 0 for a free one`));
      else if (e.code === 'EADDRNOTAVAIL' || e.code === 'ENOTFOUND') reject(new UserError(`--host ${host} is not an address of this machine`));
      else if (e.code === 'EACCES')
        reject(new UserError(`no permission to listen on port ${port} (ports below 1024 need privileges): choose another with --port`));
      else reject(e);
    });
    // Nothing is answered until the page's folder is known (the URL is printed after that).
    server.listen(port, host, () => resolve());
  });
  const close = (): Promise<void> =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  try {
    root = await pageRoot(o.root, log);
  } catch (e) {
    await close();
    throw e;
  }
  const bound = (server.address() as AddressInfo).port;
  return {
    url: formatUrl(host, bound),
    port: bound,
    host,
    metadata,
    close,
  };
}

function send(res: http.ServerResponse, status: number, text: string, extra: Record<string, string> = {}): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': 'text/plain; charset=utf-8', ...extra });
  res.end(`${text}\n`);
}

/** The byte range a request asks for: the whole file, one range, or 'unsatisfiable' (416). */
function requestedRange(header: string | undefined, size: number): { start: number; end: number; partial: boolean } | 'unsatisfiable' {
  const whole = { start: 0, end: size - 1, partial: false };
  if (header === undefined) return whole;
  const parsed = parseRange(size, header, { combine: true });
  // RFC 9110: a Range header the server cannot parse (-2) or in another unit than bytes is ignored
  // (the whole file, 200); 416 is for well-formed byte ranges that miss the file (-1).
  if (parsed === -2) return whole;
  if (parsed === -1) return 'unsatisfiable';
  if (parsed.type !== 'bytes') return whole;
  // Several disjoint ranges would need multipart/byteranges, which no client of this server needs.
  if (parsed.length !== 1) return whole;
  return { start: parsed[0].start, end: parsed[0].end, partial: true };
}

function sendFile(req: http.IncomingMessage, res: http.ServerResponse, file: string, size: number, extra: Record<string, string>): void {
  const range = requestedRange(req.headers.range, size);
  const headers = { ...SECURITY_HEADERS, 'Content-Type': mimeType(file), 'Accept-Ranges': 'bytes', ...extra };
  if (range === 'unsatisfiable') {
    res.writeHead(416, { ...headers, 'Content-Range': `bytes */${size}`, 'Content-Type': 'text/plain; charset=utf-8' });
    res.end(`range not satisfiable: the file has ${size} bytes\n`);
    return;
  }
  const length = range.end - range.start + 1;
  res.writeHead(range.partial ? 206 : 200, {
    ...headers,
    'Content-Length': String(Math.max(0, length)),
    ...(range.partial ? { 'Content-Range': `bytes ${range.start}-${range.end}/${size}` } : {}),
  });
  if (req.method === 'HEAD' || length <= 0) {
    res.end();
    return;
  }
  const stream = createReadStream(file, { start: range.start, end: range.end });
  stream.on('error', () => res.destroy());
  stream.pipe(res);
}
