import { withExamples } from '../examples.ts';
import type { Argv, CommandModule } from 'yargs';
import { addOptions, readArgs } from '../../options/cli.ts';
import { SERVE_OPTIONS } from '../../options/serve.ts';
import { entry } from './index.ts';

/** `pix2pix serve`: the browser playground for one exported generator. */
export const serveCommand: CommandModule = {
  ...entry('serve'),
  builder: (y: Argv) =>
    withExamples(addOptions(y, SERVE_OPTIONS), 'serve').usage(
      '$0 serve --model runs/NAME/model.onnx [--port 8080] [--host 127.0.0.1]\n\n' +
        "Serves a page that translates drawn label maps (a pulled model card's palette, else Cityscapes),\n" +
        'edge drawings (edges2* models) or opened images in the browser, on WebGPU when the browser has an\n' +
        'adapter and on wasm otherwise. Prints the URL.',
    ),
  handler: async (argv) => {
    const a = readArgs(SERVE_OPTIONS, argv);
    const { startServer } = await import('../../serve/server.ts');
    const server = await startServer({ model: a.model, port: a.port, host: a.host, dev: a.dev, log: (l) => process.stderr.write(`${l}\n`) });
    process.stdout.write(`${server.url}\n`);
    process.stderr.write(`serving ${a.model} at ${server.url} (Ctrl+C to stop)\n`);
    await new Promise<void>((resolve) => {
      const stop = (): void => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        void server.close().then(resolve);
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
  },
};
