/**
 * The playground page: load a generator (from `pix2pix serve` or a file), then translate a drawn
 * label map or an opened image with onnxruntime-web, on WebGPU when the browser has an adapter and
 * on wasm otherwise. The logic lives in the pure modules beside this file; this one is DOM glue.
 */
import * as ort from 'onnxruntime-web/webgpu';
import {
  CITYSCAPES_PALETTE,
  EDGE_PALETTE,
  type LabelMap,
  type PaletteEntry,
  UndoStack,
  createLabelMap,
  floodFill,
  labelMapFromRgba,
  paintDisc,
  paintStroke,
  paletteTable,
  renderLabelMap,
} from './labelmap.ts';
import { type ModelInfo, describeModel, readModelMetadata, sizeNote } from './model-info.ts';
import { nchwToRgba, rgbaToNchw } from './tensor.ts';
import { Timings, debounce } from './timing.ts';

type Ep = 'webgpu' | 'wasm';
type GpuNavigator = Navigator & { gpu?: { requestAdapter(): Promise<unknown> } };

const el = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const e = document.getElementById(id);
  if (!e) throw new Error(`page is missing #${id}`);
  return e as T;
};

const ui = {
  modelLine: el('model-line'),
  cardLine: el('card-line'),
  status: el('status'),
  warning: el('warning'),
  progress: el<HTMLProgressElement>('progress'),
  modelFile: el<HTMLInputElement>('model-file'),
  workspace: el('workspace'),
  mode: el<HTMLSelectElement>('mode'),
  imageFile: el<HTMLInputElement>('image-file'),
  tool: el<HTMLSelectElement>('tool'),
  brush: el<HTMLInputElement>('brush'),
  brushValue: el<HTMLOutputElement>('brush-value'),
  undo: el<HTMLButtonElement>('undo'),
  clear: el<HTMLButtonElement>('clear'),
  classes: el('classes'),
  input: el<HTMLCanvasElement>('input'),
  output: el<HTMLCanvasElement>('output'),
  download: el<HTMLButtonElement>('download'),
  timing: el('timing'),
};
const inputCtx = ui.input.getContext('2d', { willReadFrequently: true })!;
const outputCtx = ui.output.getContext('2d', { willReadFrequently: true })!;

interface Loaded {
  session: ort.InferenceSession;
  info: ModelInfo;
  ep: Ep;
  name: string;
}

let model: Loaded | null = null;
let labelMap: LabelMap = createLabelMap(256, 256);
const undo = new UndoStack(50);
let classId = CITYSCAPES_PALETTE[0].id;
/** What the drawing canvas paints with: the model card's palette, the edge pen and eraser, or Cityscapes. */
let palette: readonly PaletteEntry[] = CITYSCAPES_PALETTE;
let lut = paletteTable();
let timings = new Timings();
let translations = 0;

function setStatus(text: string, state: 'idle' | 'loading' | 'ready' | 'busy' | 'error'): void {
  ui.status.textContent = text;
  ui.status.dataset.state = state;
}

function showWarning(text: string | null): void {
  ui.warning.hidden = text === null;
  ui.warning.textContent = text ?? '';
}

// ---- execution provider ----

const params = new URLSearchParams(location.search);

/** WebGPU when an adapter exists (or ?ep= forces one), else wasm; says why. */
async function chooseEp(): Promise<{ ep: Ep; why: string }> {
  const forced = params.get('ep');
  if (forced === 'wasm') return { ep: 'wasm', why: 'forced by ?ep=wasm' };
  const gpu = (navigator as GpuNavigator).gpu;
  if (!gpu) return { ep: 'wasm', why: 'this browser has no WebGPU' };
  const adapter = await gpu.requestAdapter().catch(() => null);
  if (!adapter) return { ep: 'wasm', why: 'WebGPU found no adapter' };
  return { ep: 'webgpu', why: forced === 'webgpu' ? 'forced by ?ep=webgpu' : 'WebGPU adapter found' };
}

function configureOrt(): void {
  // The wasm files are copied beside the page by the build (web/build.mjs), not fetched from a CDN.
  ort.env.wasm.wasmPaths = new URL('ort/', location.href).href;
  // Threads need SharedArrayBuffer, which needs cross-origin isolation (`pix2pix serve` sends COOP/COEP).
  ort.env.wasm.numThreads = crossOriginIsolated ? Math.max(1, Math.min(4, navigator.hardwareConcurrency || 1)) : 1;
}

// ---- loading ----

/** Fetch with a progress bar (Content-Length when the server sends it). */
async function fetchWithProgress(url: string): Promise<Uint8Array> {
  const res = await fetch(url);
  if (!res.ok || !res.body) throw new Error(`${url}: HTTP ${res.status}`);
  const total = Number(res.headers.get('content-length')) || 0;
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let loaded = 0;
  ui.progress.hidden = false;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    loaded += value.length;
    if (total) ui.progress.value = loaded / total;
    setStatus(`Downloading the model: ${(loaded / 1e6).toFixed(1)}${total ? ` of ${(total / 1e6).toFixed(1)}` : ''} MB`, 'loading');
  }
  ui.progress.hidden = true;
  const bytes = new Uint8Array(loaded);
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.length;
  }
  return bytes;
}

async function createSession(bytes: Uint8Array): Promise<{ session: ort.InferenceSession; ep: Ep; note: string }> {
  const { ep, why } = await chooseEp();
  if (ep === 'webgpu') {
    try {
      return { session: await ort.InferenceSession.create(bytes, { executionProviders: ['webgpu'] }), ep, note: why };
    } catch (e) {
      if (params.get('ep') === 'webgpu') throw e;
      const reason = e instanceof Error ? e.message : String(e);
      return {
        session: await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] }),
        ep: 'wasm',
        note: `WebGPU failed (${reason.slice(0, 120)}), fell back to wasm`,
      };
    }
  }
  return { session: await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] }), ep, note: why };
}

async function loadModel(bytes: Uint8Array, name: string): Promise<void> {
  setStatus(`Reading ${name}…`, 'loading');
  let meta: Record<string, string>;
  try {
    meta = readModelMetadata(bytes);
  } catch {
    throw new Error(`${name} is not an ONNX model`);
  }
  if (meta.net === 'D') throw new Error(`${name} is a discriminator export; load a generator (pix2pix export --net G)`);
  const info = describeModel(meta);
  if (info.inputChannels !== 3) throw new Error(`${name} takes ${info.inputChannels} input channels; the page feeds RGB (3)`);
  const note = sizeNote(bytes.length);
  showWarning(note.warn ? `${name}: ${note.text}` : null);
  setStatus(`Creating the session for ${name} (${note.text})…`, 'loading');
  if (model) await model.session.release();
  model = null;
  const { session, ep, note: epNote } = await createSession(bytes);
  model = { session, info, ep, name };
  timings = new Timings();
  usePalette(info);
  resizeCanvases(info.size);
  ui.modelLine.textContent =
    `${name} · ${note.text} · ${info.netG ?? 'generator'}${info.epoch ? `, epoch ${info.epoch}` : ''} · ${info.size}×${info.size}` +
    ` · ${info.input} → ${info.output} (${info.reason}) · EP ${ep}${ep === 'wasm' ? `, ${ort.env.wasm.numThreads} thread(s)` : ''} (${epNote})`;
  const card = info.card;
  ui.cardLine.hidden = !card;
  ui.cardLine.textContent = card ? [card.task, card.licence, card.sourceUrl].filter(Boolean).join(' · ') : '';
  document.body.dataset.ep = ep;
  document.body.dataset.input = info.input;
  ui.workspace.hidden = false;
  setMode(info.input === 'image' ? 'image' : 'labels');
  setStatus(`Ready on ${ep}.`, 'ready');
  await translateNow();
}

/** The palette for this model's drawing canvas, its class buttons (the legend), and the default class. */
function usePalette(info: ModelInfo): void {
  const edges = info.input === 'edges';
  palette = edges ? EDGE_PALETTE : (info.card?.palette ?? CITYSCAPES_PALETTE);
  // Cityscapes maps keep every label id's colour (a dropped gtFine image may use void ids).
  lut = palette === CITYSCAPES_PALETTE ? paletteTable() : paletteTable(palette);
  classId = palette === info.card?.palette ? (palette[1] ?? palette[0]).id : palette[0].id;
  ui.mode.options[0].textContent = edges ? 'draw edges' : 'draw a label map';
  if (edges) {
    ui.brush.value = '2';
    ui.brushValue.textContent = '2';
  }
  buildClassPicker();
}

function resizeCanvases(size: number): void {
  for (const c of [ui.input, ui.output]) {
    c.width = size;
    c.height = size;
  }
  // Id 0 is what "clear" paints: unlabeled (Cityscapes), the eraser's white, a card palette's first class.
  labelMap = createLabelMap(size, size);
  undo.clear();
  fillCanvas(inputCtx, size, '#808080');
  fillCanvas(outputCtx, size, '#ffffff');
}

function fillCanvas(ctx: CanvasRenderingContext2D, size: number, color: string): void {
  ctx.fillStyle = color;
  ctx.fillRect(0, 0, size, size);
}

// ---- translation ----

let busy = false;
let again = false;
let pendingWork = 0;

/**
 * Run `work` with `data-busy="true"` on the body. Tests (and curious users) wait for `false`: every
 * requested image decode and translation has been shown. A counter, because an opened image is decoded
 * before its translation starts and the flag must not read false in between.
 */
async function whileBusy<T>(work: () => Promise<T>): Promise<T> {
  pendingWork++;
  document.body.dataset.busy = 'true';
  try {
    return await work();
  } finally {
    if (--pendingWork === 0) document.body.dataset.busy = 'false';
  }
}

/** Translate the input canvas; calls during a run coalesce into one more run with the latest input. */
async function translateNow(): Promise<void> {
  if (!model) return;
  if (busy) {
    again = true;
    return;
  }
  busy = true;
  await whileBusy(async () => {
    try {
      for (let m = model; m; m = again ? model : null) {
        again = false;
        await translateOnce(m);
      }
    } catch (e) {
      setStatus(`Translation failed: ${e instanceof Error ? e.message : String(e)}`, 'error');
    } finally {
      busy = false;
    }
  });
}

async function translateOnce(m: Loaded): Promise<void> {
  const s = m.info.size;
  const rgba = inputCtx.getImageData(0, 0, s, s).data;
  const x = new ort.Tensor('float32', rgbaToNchw(rgba, s, s), [1, 3, s, s]);
  const t0 = performance.now();
  const out = await m.session.run({ [m.session.inputNames[0]]: x });
  const y = out[m.session.outputNames[0]];
  const data = (await y.getData()) as Float32Array;
  const ms = performance.now() - t0;
  x.dispose();
  y.dispose();
  const [, c, h, w] = y.dims as number[];
  outputCtx.putImageData(new ImageData(nchwToRgba(data, c, w, h), w, h), 0, 0);
  timings.add(ms);
  translations++;
  document.body.dataset.translations = String(translations);
  ui.download.disabled = false;
  ui.timing.textContent = `${m.ep}: ${ms.toFixed(1)} ms for this translation, median ${timings.median().toFixed(1)} ms over ${timings.count}`;
}

const translateSoon = debounce(() => void translateNow(), 150);

// ---- drawing ----

function redrawLabels(): void {
  inputCtx.putImageData(new ImageData(renderLabelMap(labelMap, lut), labelMap.width, labelMap.height), 0, 0);
}

function canvasPoint(e: PointerEvent): [number, number] {
  const r = ui.input.getBoundingClientRect();
  return [((e.clientX - r.left) / r.width) * ui.input.width, ((e.clientY - r.top) / r.height) * ui.input.height];
}

let stroke: [number, number] | null = null;

function brushRadius(): number {
  return Number(ui.brush.value) / 2;
}

ui.input.addEventListener('pointerdown', (e) => {
  if (!model || ui.mode.value !== 'labels') return;
  const [x, y] = canvasPoint(e);
  if (ui.tool.value === 'pick') {
    // The eyedropper: the class under the pointer (e.g. in an opened label image) becomes the brush's.
    const id = labelMap.data[Math.min(labelMap.height - 1, Math.floor(y)) * labelMap.width + Math.min(labelMap.width - 1, Math.floor(x))];
    selectClass(id);
    return;
  }
  undo.push(labelMap);
  if (ui.tool.value === 'fill') {
    floodFill(labelMap, x, y, classId);
    redrawLabels();
    void translateNow();
    return;
  }
  ui.input.setPointerCapture(e.pointerId);
  stroke = [x, y];
  paintDisc(labelMap, x, y, brushRadius(), classId);
  redrawLabels();
  translateSoon();
});
ui.input.addEventListener('pointermove', (e) => {
  if (!stroke) return;
  const [x, y] = canvasPoint(e);
  paintStroke(labelMap, stroke[0], stroke[1], x, y, brushRadius(), classId);
  stroke = [x, y];
  redrawLabels();
  translateSoon();
});
const endStroke = (): void => {
  if (!stroke) return;
  stroke = null;
  translateSoon.cancel();
  void translateNow();
};
ui.input.addEventListener('pointerup', endStroke);
ui.input.addEventListener('pointercancel', endStroke);

function doUndo(): void {
  if (ui.mode.value === 'labels' && undo.undo(labelMap)) {
    redrawLabels();
    void translateNow();
  }
}
ui.undo.addEventListener('click', doUndo);
document.addEventListener('keydown', (e) => {
  if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === 'z') {
    e.preventDefault();
    doUndo();
  }
});
ui.clear.addEventListener('click', () => {
  undo.push(labelMap);
  labelMap.data.fill(0);
  redrawLabels();
  void translateNow();
});
ui.brush.addEventListener('input', () => {
  ui.brushValue.textContent = ui.brush.value;
});

function selectClass(id: number): void {
  classId = id;
  for (const b of ui.classes.querySelectorAll('button')) b.setAttribute('aria-checked', String(b.dataset.id === String(id)));
}

/** One button per class, with its colour swatch and name: the picker is also the legend. */
function buildClassPicker(): void {
  ui.classes.replaceChildren();
  for (const entry of palette) {
    const b = document.createElement('button');
    b.type = 'button';
    b.setAttribute('role', 'radio');
    b.dataset.id = String(entry.id);
    b.setAttribute('aria-checked', String(entry.id === classId));
    const sw = document.createElement('span');
    sw.className = 'swatch';
    sw.style.background = `rgb(${entry.color.join(',')})`;
    b.append(sw, entry.name);
    b.addEventListener('click', () => selectClass(entry.id));
    ui.classes.append(b);
  }
}

// ---- modes and images ----

function setMode(mode: 'labels' | 'image'): void {
  ui.mode.value = mode;
  document.body.classList.toggle('hide-tools', mode !== 'labels');
  if (mode === 'labels') redrawLabels();
}
ui.mode.addEventListener('change', () => {
  setMode(ui.mode.value === 'labels' ? 'labels' : 'image');
  void translateNow();
});

/** Draw an image file onto the input canvas at the model's size (a label image becomes editable labels). */
async function openImage(file: File): Promise<void> {
  if (!model) throw new Error('load a model first');
  const s = model.info.size;
  const bitmap = await createImageBitmap(file);
  const labels = ui.mode.value === 'labels';
  // Label maps must not be blended between classes: nearest-neighbour, then snapped to the palette.
  inputCtx.imageSmoothingEnabled = !labels;
  inputCtx.imageSmoothingQuality = 'high';
  inputCtx.drawImage(bitmap, 0, 0, s, s);
  bitmap.close();
  if (labels) {
    undo.push(labelMap);
    labelMap = labelMapFromRgba(inputCtx.getImageData(0, 0, s, s).data, s, s, palette);
    redrawLabels();
  }
  await translateNow();
}

ui.imageFile.addEventListener('change', () => {
  const f = ui.imageFile.files?.[0];
  if (f) whileBusy(() => openImage(f)).catch(reportError);
  ui.imageFile.value = '';
});

ui.modelFile.addEventListener('change', () => {
  const f = ui.modelFile.files?.[0];
  if (f)
    f.arrayBuffer()
      .then((b) => loadModel(new Uint8Array(b), f.name))
      .catch(reportError);
  ui.modelFile.value = '';
});

document.addEventListener('dragover', (e) => {
  e.preventDefault();
  ui.input.classList.add('drop');
});
document.addEventListener('dragleave', () => ui.input.classList.remove('drop'));
document.addEventListener('drop', (e) => {
  e.preventDefault();
  ui.input.classList.remove('drop');
  const f = e.dataTransfer?.files[0];
  if (!f) return;
  if (/\.onnx$/i.test(f.name))
    f.arrayBuffer()
      .then((b) => loadModel(new Uint8Array(b), f.name))
      .catch(reportError);
  else openImage(f).catch(reportError);
});

ui.download.addEventListener('click', () => {
  ui.output.toBlob((blob) => {
    if (!blob) return;
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = `pix2pix-${model?.info.output ?? 'output'}.png`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
  }, 'image/png');
});

function reportError(e: unknown): void {
  setStatus(e instanceof Error ? e.message : String(e), 'error');
}

// ---- start ----

async function start(): Promise<void> {
  configureOrt();
  buildClassPicker();
  // `pix2pix serve` offers its model at ./model.onnx; a static copy of the page may have none.
  const head = await fetch('model.onnx', { method: 'HEAD' }).catch(() => null);
  if (head?.ok) {
    await loadModel(await fetchWithProgress('model.onnx'), decodeURIComponent(head.headers.get('x-model-name') ?? 'model.onnx'));
  } else {
    setStatus('Open an exported generator (.onnx) to start.', 'idle');
  }
}

start().catch(reportError);
