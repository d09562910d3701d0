import type { CommandModule } from 'yargs';

interface RfArgs {
  size: number;
  netD?: string;
  n_layers_D?: number[];
  rf?: number;
  ndf: number;
  norm: string;
  unconditional: boolean;
}

/** `pix2pix eval rf`: the receptive-field table of discriminator configurations. */
export const evalRfCommand: CommandModule<object, RfArgs> = {
  command: 'rf',
  describe: 'Print the receptive field, logit map, parameters and MACs of PatchGAN discriminators',
  builder: (y) =>
    y
      .option('size', { type: 'number', default: 256, describe: 'image side the logit maps and MACs are computed for' })
      .option('netD', { choices: ['basic', 'pixel', 'n_layers'], describe: 'one configuration only (basic = 70×70, pixel = 1×1)' })
      .option('n_layers_D', { type: 'number', array: true, describe: 'depths to list (default 0…6)' })
      .option('rf', { type: 'number', describe: 'one configuration, chosen by receptive field' })
      .option('ndf', { type: 'number', default: 64 })
      .option('norm', { choices: ['batch', 'instance'], default: 'batch' })
      .option('unconditional', { type: 'boolean', default: false, describe: 'D sees B only (3 channels) instead of (A, B)' }),
  handler: async (a) => {
    const { resolveDiscriminatorLayers } = await import('../../nets/arch.ts');
    const { rfTable, formatRfTable } = await import('../../nets/rf-table.ts');
    const single = a.netD !== undefined || a.rf !== undefined ? [resolveDiscriminatorLayers({ netD: a.netD, nLayersD: a.n_layers_D?.[0], rf: a.rf })] : undefined;
    const rows = rfTable({ size: a.size, nLayers: single ?? a.n_layers_D, base: { ndf: a.ndf, norm: a.norm as 'batch' | 'instance', conditional: !a.unconditional } });
    process.stdout.write(`${formatRfTable(rows, a.size)}\n`);
  },
};
