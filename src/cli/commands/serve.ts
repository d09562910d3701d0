import type { CommandModule } from 'yargs';

interface ServeArgs {
  model: string;
  port: number;
  host: string;
}

/** `pix2pix serve`: the browser playground for one exported generator. */
export const serveCommand: CommandModule<object, ServeArgs> = {
  command: 'serve',
  describe: 'Serve the browser playground (onnxruntime-web: WebGPU, else wasm) for an exported generator',
  builder: (y) =>
    y
      .usage(
        '$0 serve --model runs/NAME/model.onnx [--port 8080] [--host 127.0.0.1]\n\n' +
          'Serves a page that translates drawn Cityscapes label maps (labels→photo models) or opened images\n' +
          'in the browser, on WebGPU when the browser has an adapter and on wasm otherwise. Prints the URL.',
      )
      .option('model', { type: 'string', demandOption: true, describe: 'an exported generator (.onnx, from `pix2pix export`)' })
      .option('port', { type: 'number', default: 8080, describe: 'TCP port; 0 picks a free one' })
      .option('host', { type: 'string', default: '127.0.0.1', describe: 'address to bind; 0.0.0.0 exposes the page to the network' })
      .example('$0 serve --model runs/facades/model.onnx', 'then open the printed URL'),
  handler: async (a) => {
    const { startServer } = await import('../../serve/server.ts');
    const server = await startServer({ model: a.model, port: a.port, host: a.host, log: (l) => process.stderr.write(`${l}\n`) });
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
