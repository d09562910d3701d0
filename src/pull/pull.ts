/**
 * `pix2pix pull NAME`: one of the pix2pix authors' published PyTorch generators, downloaded into the
 * cache, converted with the `pix2pix import` code, and written as OUT/NAME.onnx with a model card in
 * its ONNX metadata (`model_card`, JSON): what it translates, what it reads (a label palette, an edge
 * drawing, a photo), the palette, where it came from, the sha256 of the downloaded file, the licence.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { importPthBytes } from '../import/run-import.ts';
import { UserError } from '../util/errors.ts';
import { formatBytes } from '../util/bytes.ts';
import { writeFileAtomic } from '../util/fs.ts';
import { type CachedFile, defaultCacheDir, fetchCached, type RemoteFetchOptions } from './cache.ts';
import { type PretrainedModel, PRETRAINED_MODELS, baseUrl, findModel, modelUrl } from './catalog.ts';

export interface PullOptions extends RemoteFetchOptions {
  name: string;
  /** The folder OUT/NAME.onnx is written to. */
  out: string;
}

export interface PullResult {
  out: string;
  url: string;
  cached: CachedFile;
  card: ModelCard;
}

/** The `model_card` metadata entry. The playground reads it to choose its input tools. */
export interface ModelCard {
  name: string;
  task: string;
  dataset: string;
  direction?: 'AtoB' | 'BtoA';
  input: PretrainedModel['input'];
  palette?: { name: string; color: readonly number[] }[];
  source_url: string;
  sha256: string;
  licence: string;
}

export function modelCard(m: PretrainedModel, url: string, sha256: string): ModelCard {
  return {
    name: m.name,
    task: m.task,
    dataset: m.dataset,
    ...(m.direction ? { direction: m.direction } : {}),
    input: m.input,
    ...(m.palette ? { palette: m.palette.map((p) => ({ name: p.name, color: [...p.color] })) } : {}),
    source_url: url,
    sha256,
    licence: m.licence,
  };
}

function unknownModel(name: string): UserError {
  return new UserError(`no published model '${name}': choose one of ${PRETRAINED_MODELS.map((m) => m.name).join(', ')} (pix2pix pull --list)`);
}

async function checkOutFolder(out: string): Promise<void> {
  const st = await fsp.stat(out).catch(() => null);
  if (st && !st.isDirectory()) throw new UserError(`--out ${out} is a file: name a folder (NAME.onnx is written inside it)`);
}

export async function pullModel(o: PullOptions): Promise<PullResult> {
  const log = o.log ?? (() => {});
  const m = findModel(o.name);
  if (!m) throw unknownModel(o.name);
  await checkOutFolder(o.out);
  const url = modelUrl(baseUrl(o.mirror, o.env), m.name);
  const cacheDir = o.cacheDir ?? defaultCacheDir(o.env);
  const cached = await fetchCached({
    url,
    file: path.join(cacheDir, 'models', `${m.name}.pth`),
    onProgress: o.onProgress,
    offlineAdvice: `pass --mirror URL (or set PIX2PIX_MIRROR) to use another server with the same layout, or download ${m.name}.pth yourself and convert it with \`pix2pix import --pth ${m.name}.pth --out ${m.name}.onnx\``,
  });
  log(`${cached.downloaded ? 'downloaded' : 'cached'} ${cached.file} (${formatBytes(cached.bytes)}, sha256 ${cached.sha256})`);
  const card = modelCard(m, url, cached.sha256);
  const metadata: Record<string, string> = { model_card: JSON.stringify(card), ...(m.direction ? { direction: m.direction } : {}) };
  let onnx: Uint8Array;
  try {
    onnx = importPthBytes(new Uint8Array(await fsp.readFile(cached.file)), `${m.name}.pth`, { metadata }).onnx;
  } catch (e) {
    if (e instanceof UserError)
      throw new UserError(
        `${url} is not a pix2pix generator pix2pix-ts can import (${e.message}): delete ${cached.file} and ${cached.record} if the download is damaged`,
      );
    throw e;
  }
  await fsp.mkdir(o.out, { recursive: true });
  const out = path.join(o.out, `${m.name}.onnx`);
  await writeFileAtomic(out, onnx);
  log(`wrote ${out} (${formatBytes(onnx.length)}): ${m.task}`);
  return { out, url, cached, card };
}
