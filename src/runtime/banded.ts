/**
 * Tiled inference band by band, for images above the pixel budget (`--max-pixels`) with `--tile`:
 * the input is read a few rows at a time (src/image/band-source.ts), each row of tiles is
 * translated and blended by the same TileBlender as the whole-image path, and the finished rows
 * go straight into a streaming PNG (src/image/png-stream.ts) written atomically. What is held at
 * once is one band of tile rows (the width × the tile's height, input and output), so a 20000×20000
 * aerial photo runs in the memory of a 20000×256 strip. The pixels equal the whole-image tiled
 * path's (test/runtime/banded.test.ts).
 */
import { rmSync } from 'node:fs';
import { type AbSide, checkReadableImage, megapixels, UnreadableImage } from '../image/decode.ts';
import { type BandSourcePlan, openRowSource, planBandSource, type RowSource } from '../image/band-source.ts';
import { PngRowWriter } from '../image/png-stream.ts';
import { UserError } from '../util/errors.ts';
import { eventLoopYielder } from '../util/event-loop.ts';
import { writeFileAtomicWith } from '../util/fs.ts';
import { holdStopHandlers, onStop } from '../util/stop.ts';
import { fillPlanar, padPlan, reflectIndex, type RgbView } from './native-size.ts';
import type { ModelSession } from './session.ts';
import { planTiles, type TileBlend, TileBlender, type TilePlan } from './tiles.ts';

/** A tiled image read, translated and written band by band. */
export interface BandedImage {
  source: BandSourcePlan;
  width: number;
  height: number;
  /** Rows per libvips decode (unused for streamed PNGs). */
  stripRows: number;
}

export interface BandedRequest {
  file: string;
  half?: AbSide;
  multiple: number;
  tile: number;
  overlap: number;
  maxPixels: number;
  /** The run's output format and whether it writes triplets: both need the whole image. */
  format: string;
  triplets: boolean;
}

/** Pixels a band holds: the padded width × one tile's height (planTiles's tileHeight). */
export function bandPixels(width: number, height: number, multiple: number, tile: number): number {
  const pad = padPlan(width, height, multiple);
  return pad.paddedWidth * Math.min(tile, pad.paddedHeight);
}

/**
 * Where planBanded sends an image: band by band, or whole (which refuses it over the budget, as
 * without --tile) with the oriented size of the whole file that planBanded read from the header, so
 * the decoder need not read it again (absent for the formats decoded in JS, BMP and PPM/PGM).
 */
export type TiledRoute = { banded: BandedImage } | { banded?: undefined; header?: { width: number; height: number } };

/**
 * Whether `file` goes band by band: it is larger than one tile and its pixels are over the budget.
 * An image the band path cannot take, nor the whole-image path, is refused with an UnreadableImage
 * saying what to do.
 */
export async function planBanded(r: BandedRequest): Promise<TiledRoute> {
  await checkReadableImage(r.file);
  const source = await planBandSource(r.file, r.half);
  if (!source) return {};
  const { width, height } = source;
  if (width * height <= r.maxPixels || (width <= r.tile && height <= r.tile)) return { header: { width: source.sourceWidth, height: source.sourceHeight } };
  const whole = `image is ${width}×${height} (${megapixels(width * height)}), over the ${megapixels(r.maxPixels)} decode budget`;
  const band = bandPixels(width, height, r.multiple, r.tile);
  if (band > r.maxPixels)
    throw new UnreadableImage(
      `${whole}, and even one band of --tile ${r.tile} rows is ${megapixels(band)}: use a smaller --tile, or raise --max-pixels if the machine has the memory`,
    );
  if (r.format !== 'png')
    throw new UnreadableImage(`${whole}; --format ${r.format} is written whole: use --format png (written band by band with --tile) or raise --max-pixels`);
  if (source.orientation !== 1)
    throw new UnreadableImage(
      `${whole}; its EXIF orientation (${source.orientation}) turns the whole image at once: rotate the file itself first, or raise --max-pixels`,
    );
  if (r.triplets) throw new UnreadableImage(`${whole}; --save-triplets/--html write the input whole: drop them for this image or raise --max-pixels`);
  const stripRows = Math.max(r.tile, Math.floor(r.maxPixels / 4 / source.sourceWidth));
  return { banded: { source, width, height, stripRows } };
}

/** Source rows kept between bands: rows [first, first + rows.length). */
class RowWindow {
  private rows: Uint8Array[] = [];
  private first = 0;

  constructor(private readonly source: RowSource) {}

  async row(r: number): Promise<Uint8Array> {
    if (r < this.first) throw new Error(`RowWindow: row ${r} was dropped (first kept ${this.first})`);
    while (this.first + this.rows.length <= r) this.rows.push(await this.source.next());
    return this.rows[r - this.first];
  }

  dropBefore(r: number): void {
    const n = Math.max(0, Math.min(r - this.first, this.rows.length));
    this.rows.splice(0, n);
    this.first += n;
  }
}

/** Source rows tile row j reads (reflect-padded): index t holds padded row ys[j] + t. */
function bandSourceRows(plan: TilePlan, j: number): number[] {
  return Array.from({ length: plan.tileHeight }, (_, t) => reflectIndex(plan.ys[j] + t - plan.pad.top, plan.pad.height));
}

/** Tile row j's input rows, top to bottom, as an image tileHeight rows tall. */
async function bandView(window: RowWindow, plan: TilePlan, j: number): Promise<RgbView> {
  const rows = bandSourceRows(plan, j);
  const width = plan.pad.width;
  const rgb = new Uint8Array(rows.length * width * 3);
  // Load in row order (the source only goes forward), then place each where it belongs.
  const order = [...rows.keys()].sort((a, b) => rows[a] - rows[b]);
  for (const t of order) rgb.set(await window.row(rows[t]), t * width * 3);
  const next = plan.ys[j + 1] === undefined ? plan.pad.height : Math.min(...bandSourceRows(plan, j + 1));
  window.dropBefore(next);
  return { rgb, width, height: rows.length };
}

export interface BandedRun {
  session: ModelSession;
  multiple: number;
  tile: number;
  overlap: number;
  blend?: TileBlend;
  /** Tiles per session.run. */
  perRun: number;
  /** Called with the image rows written so far. */
  progress?: (rowsDone: number) => void;
}

/** Translate one row of tiles, `perRun` at a time, into the blender. */
async function translateTileRow(run: BandedRun, plan: TilePlan, j: number, band: RgbView, blender: TileBlender): Promise<void> {
  const { tileWidth: tw, tileHeight: th, xs } = plan;
  const plane = tw * th;
  const outC = run.session.io.outputChannels;
  for (let i0 = 0; i0 < xs.length; i0 += run.perRun) {
    const count = Math.min(run.perRun, xs.length - i0);
    const n = run.session.io.fixedBatch ?? count;
    const input = new Float32Array(n * 3 * plane);
    for (let i = 0; i < count; i++) fillPlanar(band, { left: plan.pad.left, top: 0 }, { x: xs[i0 + i], y: 0, width: tw, height: th }, input, i * 3 * plane);
    const out = await run.session.run(input, [n, 3, th, tw]);
    if (out.dims[2] !== th || out.dims[3] !== tw)
      throw new UserError(
        `the model returned ${out.dims.join('×')} for a ${th}×${tw} input; infer needs an image-to-image model with output the size of its input`,
      );
    for (let i = 0; i < count; i++) blender.add(j * xs.length + i0 + i, out.data, i * outC * plane);
  }
}

/**
 * Translate `image` into the PNG `target`, band by band, written through a temporary file renamed
 * at the end. A stop (SIGINT, SIGTERM, SIGHUP) while it runs removes the temporary file and exits
 * as the other stops do (src/util/stop.ts), so no part of the image is left under any name.
 */
export async function translateBanded(image: BandedImage, target: string, run: BandedRun): Promise<void> {
  const plan = planTiles(image.width, image.height, run.multiple, run.tile, run.overlap, run.blend);
  const source = openRowSource(image.source, image.stripRows);
  const release = holdStopHandlers('rerun with --skip-existing to continue with the images not yet written');
  let unregister: () => void = () => {};
  try {
    await writeFileAtomicWith(target, async (fh, tmp) => {
      unregister = onStop(() => rmSync(tmp, { force: true }));
      const png = new PngRowWriter(image.width, image.height, async (b) => void (await fh.write(b)));
      try {
        await translateBands(plan, source, png, run);
        await png.end();
      } finally {
        png.destroy();
      }
    });
  } finally {
    unregister();
    release();
    await source.close();
  }
}

/**
 * Every row of tiles, in order. A band's rows are compressed (zlib, on libuv's pool) while the next
 * band's tiles run; at most one band waits to be written, so memory stays one band.
 */
async function translateBands(plan: TilePlan, source: RowSource, png: PngRowWriter, run: BandedRun): Promise<void> {
  let finished: Uint8Array[] = [];
  let rowsDone = 0;
  const blender = new TileBlender(plan, run.session.io.outputChannels, (_first, rgb) => finished.push(rgb));
  const window = new RowWindow(source);
  const yieldNow = eventLoopYielder();
  let writing: Promise<void> = Promise.resolve();
  const write = async (bands: Uint8Array[]): Promise<void> => {
    for (const rows of bands) {
      await png.writeRows(rows);
      rowsDone += rows.length / (plan.pad.width * 3);
    }
    run.progress?.(rowsDone);
  };
  for (let j = 0; j < plan.ys.length; j++) {
    const band = await bandView(window, plan, j);
    await translateTileRow(run, plan, j, band, blender);
    await writing;
    writing = write(finished);
    // Observed here so a failed write waits for the await above instead of counting as unhandled.
    writing.catch(() => {});
    finished = [];
    await yieldNow();
  }
  await writing;
}
