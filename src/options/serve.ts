/** `pix2pix serve`. */
import { opt } from './define.ts';

export const SERVE_OPTIONS = {
  model: opt.string({ help: 'an exported generator (.onnx, from `pix2pix export`)', required: true }),
  port: opt.int({ help: 'TCP port; 0 picks a free one', default: 8080, min: 0, max: 65535 }),
  dev: opt.boolean({ help: "also serve the page's source maps (build them with `node web/build.mjs --dev`)", default: false }),
  host: opt.string({ help: 'address to bind; 0.0.0.0 exposes the page to the network', default: '127.0.0.1' }),
} as const;
