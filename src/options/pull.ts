/** `pix2pix pull` and `pix2pix data download` / `data combine`. */
import { quiet } from './common.ts';
import { opt } from './define.ts';

const cacheDir = opt.string({ help: 'where downloads are kept and resumed (default $XDG_CACHE_HOME/pix2pix-ts, else ~/.cache/pix2pix-ts)' });
const mirror = opt.string({
  help: "a server with the same layout as the authors' (http://efrosgans.eecs.berkeley.edu); default $PIX2PIX_MIRROR, else the authors' server",
});

export const PULL_OPTIONS = {
  out: opt.string({ help: 'folder for NAME.onnx', default: 'models' }),
  list: opt.boolean({ help: 'print the published models and exit', default: false }),
  cacheDir,
  mirror,
  quiet,
} as const;

export const DATA_DOWNLOAD_OPTIONS = {
  out: opt.string({ help: 'folder the dataset folder NAME/ is extracted into', default: 'datasets' }),
  list: opt.boolean({ help: 'print the downloadable datasets and exit', default: false }),
  cacheDir,
  mirror,
  quiet,
} as const;

export const DATA_COMBINE_OPTIONS = {
  a: opt.string({ help: 'folder of A images, one subfolder per split (train/, val/, test/)', required: true }),
  b: opt.string({ help: 'folder of B images with the same split subfolders and file names', required: true }),
  out: opt.string({ help: 'folder for the side-by-side AB images (same splits and names)', required: true }),
  quiet,
} as const;
