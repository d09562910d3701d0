import { promises as fsp } from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/capture.ts';
import { exportConvNetOnnx, generatorSpec, modelMetadata } from '../../src/export/export.ts';
import { generatorArch } from '../../src/nets/arch.ts';
import { type RunningServer, mimeType, resolveRequestPath, startServer } from '../../src/serve/server.ts';
import { randomParams } from '../export/fixtures.ts';

let dir: string;
let root: string;
let modelFile: string;
let server: RunningServer;

/** A raw request: the path goes on the wire as written (fetch would normalise `..` away first). */
function rawGet(
  port: number,
  requestPath: string,
  method = 'GET',
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: requestPath, method, headers }, (res) => {
      let body = '';
      res.setEncoding('latin1');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'p2p-serve-'));
  root = path.join(dir, 'site');
  await fsp.mkdir(path.join(root, 'ort'), { recursive: true });
  await fsp.writeFile(path.join(root, 'index.html'), '<p>page</p>');
  await fsp.writeFile(path.join(root, 'app.js'), 'export {}');
  await fsp.writeFile(path.join(root, 'app.js.map'), '{"sourcesContent":["SOURCE"]}');
  await fsp.writeFile(path.join(root, 'ort', 'x.wasm'), Buffer.from([0, 0x61, 0x73, 0x6d]));
  await fsp.writeFile(path.join(root, 'ort', 'x.mjs'), 'export {}');
  // Secrets beside the site, and symlinks inside it that lead to them.
  await fsp.writeFile(path.join(dir, 'secret.txt'), 'SECRET');
  await fsp.symlink(path.join(dir, 'secret.txt'), path.join(root, 'link.txt'));
  await fsp.symlink(dir, path.join(root, 'uplink'));
  await fsp.symlink(path.join(root, 'app.js'), path.join(root, 'inner.js'));
  const arch = generatorArch({ depth: 5, ngf: 4 });
  const meta = modelMetadata(
    { kind: 'pix2pix', generator: arch.options, discriminator: null, config: { data: 'data/synth', direction: 'BtoA', size: 64 }, epoch: 1, version: '0' },
    'G',
  );
  modelFile = path.join(dir, 'my model.onnx');
  await fsp.writeFile(modelFile, exportConvNetOnnx(generatorSpec(arch, randomParams(arch, 1), meta)));
  server = await startServer({ model: modelFile, root, port: 0 });
});

afterAll(async () => {
  await server?.close();
  await fsp.rm(dir, { recursive: true, force: true });
});

describe('resolveRequestPath', () => {
  const r = '/srv/site';
  it('maps paths under the root and / to index.html', () => {
    expect(resolveRequestPath(r, '/')).toBe('/srv/site/index.html');
    expect(resolveRequestPath(r, '/ort/a%20b.wasm')).toBe('/srv/site/ort/a b.wasm');
    expect(resolveRequestPath(r, '/ort/')).toBe('/srv/site/ort/index.html');
    expect(resolveRequestPath(r, '//app.js')).toBe('/srv/site/app.js');
  });
  it('refuses .. in any spelling, backslashes, NUL, bad escapes and non-absolute paths', () => {
    for (const p of [
      '/../x',
      '/a/../../x',
      '/%2e%2e/x',
      '/%2E%2E%2Fx',
      '/..%2fx',
      '/a/%2e%2e/%2e%2e/x',
      '/.%2e/x',
      '/..\\x',
      '/%5c..%5cx',
      '/a%00.html',
      '/%E0%A4%A',
      'x',
      'http://evil/x',
      '/./x',
    ]) {
      expect(resolveRequestPath(r, p), p).toBeNull();
    }
  });
});

describe('pix2pix serve', () => {
  it('binds to 127.0.0.1 by default and reports the chosen free port', () => {
    expect(server.host).toBe('127.0.0.1');
    expect(server.port).toBeGreaterThan(0);
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/`);
    expect(server.metadata.direction).toBe('BtoA');
  });

  it('serves the page with COOP/COEP and the right MIME types', async () => {
    const page = await rawGet(server.port, '/');
    expect(page.status).toBe(200);
    expect(page.body).toBe('<p>page</p>');
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['cross-origin-opener-policy']).toBe('same-origin');
    expect(page.headers['cross-origin-embedder-policy']).toBe('require-corp');
    expect((await rawGet(server.port, '/ort/x.wasm')).headers['content-type']).toBe('application/wasm');
    expect((await rawGet(server.port, '/ort/x.mjs?v=1')).headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect((await rawGet(server.port, '/app.js')).headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(mimeType('a.CSS')).toBe('text/css; charset=utf-8');
  });

  it('serves the model at /model.onnx with its length and name, HEAD without a body', async () => {
    const bytes = await fsp.readFile(modelFile);
    const res = await fetch(`${server.url}model.onnx`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-length')).toBe(String(bytes.length));
    expect(decodeURIComponent(res.headers.get('x-model-name')!)).toBe('my model.onnx');
    expect(Buffer.from(await res.arrayBuffer()).equals(bytes)).toBe(true);
    const head = await rawGet(server.port, '/model.onnx', 'HEAD');
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
  });

  it('answers a byte range of the model with 206 and its Content-Range, an unsatisfiable one with 416', async () => {
    const bytes = await fsp.readFile(modelFile);
    const size = bytes.length;
    const cases: [string, number, number][] = [
      ['bytes=0-99', 0, 99],
      ['bytes=100-', 100, size - 1],
      ['bytes=-10', size - 10, size - 1],
      [`bytes=${size - 5}-${size + 1000}`, size - 5, size - 1],
    ];
    for (const [header, start, end] of cases) {
      const res = await rawGet(server.port, '/model.onnx', 'GET', { Range: header });
      expect(res.status, header).toBe(206);
      expect(res.headers['content-range'], header).toBe(`bytes ${start}-${end}/${size}`);
      expect(res.headers['content-length'], header).toBe(String(end - start + 1));
      expect(Buffer.from(res.body, 'latin1').equals(bytes.subarray(start, end + 1)), header).toBe(true);
    }
    for (const header of [`bytes=${size}-`, `bytes=${size + 5}-${size + 9}`, 'bytes=9-3']) {
      const res = await rawGet(server.port, '/model.onnx', 'GET', { Range: header });
      expect(res.status, header).toBe(416);
      expect(res.headers['content-range'], header).toBe(`bytes */${size}`);
    }
    // A header that is not a range at all is ignored, as RFC 9110 asks: the whole file.
    for (const header of ['garbage', 'bytes=abc']) {
      const malformed = await rawGet(server.port, '/model.onnx', 'GET', { Range: header });
      expect(malformed.status, header).toBe(200);
      expect(malformed.body.length, header).toBe(size);
    }
    const plain = await rawGet(server.port, '/model.onnx');
    expect(plain.status).toBe(200);
    expect(plain.headers['accept-ranges']).toBe('bytes');
  });

  it('serves source maps only with dev', async () => {
    expect((await rawGet(server.port, '/app.js.map')).status).toBe(404);
    const dev = await startServer({ model: modelFile, root, port: 0, dev: true });
    try {
      const res = await rawGet(dev.port, '/app.js.map');
      expect(res.status).toBe(200);
      expect(res.body).toContain('SOURCE');
    } finally {
      await dev.close();
    }
  });

  it('serves nothing outside its folder: .., encoded .., absolute paths, symlinks out', async () => {
    for (const p of [
      '/../secret.txt',
      '/%2e%2e/secret.txt',
      '/%2e%2e%2fsecret.txt',
      '/..%2Fsecret.txt',
      '/ort/../../secret.txt',
      '/link.txt',
      '/uplink/secret.txt',
      `/${dir}/secret.txt`,
      `${dir}/secret.txt`,
      '/..\\secret.txt',
      '/%5c..%5csecret.txt',
    ]) {
      const res = await rawGet(server.port, p);
      expect(res.status, p).toBeGreaterThanOrEqual(400);
      expect(res.body, p).not.toContain('SECRET');
    }
    // A symlink that stays inside the folder is fine.
    expect((await rawGet(server.port, '/inner.js')).status).toBe(200);
    expect((await rawGet(server.port, '/nope.html')).status).toBe(404);
    expect((await rawGet(server.port, '/ort')).status).toBe(404);
  });

  it('answers other methods with 405', async () => {
    const res = await rawGet(server.port, '/', 'POST');
    expect(res.status).toBe(405);
    expect(res.headers.allow).toBe('GET, HEAD');
  });

  it('says in one line when the port is busy, the model is missing or not ONNX, or the port is invalid', async () => {
    await expect(startServer({ model: modelFile, root, port: server.port })).rejects.toThrow(new RegExp(`^port ${server.port} on 127.0.0.1 is busy`));
    await expect(startServer({ model: path.join(dir, 'none.onnx'), root, port: 0 })).rejects.toThrow(/^model not found: .*none\.onnx/);
    await fsp.writeFile(path.join(dir, 'bad.onnx'), 'not a model at all');
    await expect(startServer({ model: path.join(dir, 'bad.onnx'), root, port: 0 })).rejects.toThrow(/not an ONNX model/);
    await expect(startServer({ model: modelFile, root, port: 70000 })).rejects.toThrow(/--port must be an integer from 0 to 65535/);
    await expect(startServer({ model: modelFile, root: dir + '/nope', port: 0 })).rejects.toThrow(/no index\.html/);
  });

  it('is not reachable on other interfaces when bound to 127.0.0.1', async () => {
    const other = Object.values(os.networkInterfaces())
      .flat()
      .find((a) => a && a.family === 'IPv4' && !a.internal);
    if (!other) return; // a machine with loopback only has nothing else to try
    const reached = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host: other.address, port: server.port }, () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    expect(reached).toBe(false);
  });
});

describe('pix2pix serve (CLI)', () => {
  const cli = runCli;

  it('prints one line and exits 2 for a missing model, a busy port and a bad port', async () => {
    const missing = await cli(['serve', '--model', path.join(dir, 'missing.onnx'), '--port', '0']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^pix2pix: model not found: \S+missing\.onnx \(make one with `pix2pix export --checkpoint runs\/NAME`\)\n$/);
    const busy = await cli(['serve', '--model', modelFile, '--port', String(server.port)]);
    expect(busy.code).toBe(2);
    expect(busy.stderr).toBe(`pix2pix: port ${server.port} on 127.0.0.1 is busy: choose another with --port, or --port 0 for a free one\n`);
    const bad = await cli(['serve', '--model', modelFile, '--port', '-3']);
    expect(bad.code).toBe(2);
    expect(bad.stderr.split('\n')[0]).toMatch(/--port must be an integer from 0 to 65535/);
  });
});
