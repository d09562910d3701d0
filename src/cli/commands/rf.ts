import { withExamples } from '../examples.ts';
import type { Argv, CommandModule } from 'yargs';
import { addOptions, readArgs } from '../../options/cli.ts';
import { RF_OPTIONS } from '../../options/eval.ts';

/** `pix2pix eval rf`: the receptive-field table of discriminator configurations. */
export const evalRfCommand: CommandModule = {
  command: 'rf',
  describe: 'Print the receptive field, logit map, parameters and MACs of the PatchGAN and PixelGAN discriminators',
  builder: (y: Argv) => withExamples(addOptions(y, RF_OPTIONS), 'eval rf'),
  handler: async (argv) => {
    const a = readArgs(RF_OPTIONS, argv);
    const { resolveDiscriminator } = await import('../../nets/arch.ts');
    const { rfTable, formatRfTable } = await import('../../nets/rf-table.ts');
    const single = a.netD !== undefined || a.rf !== undefined ? [resolveDiscriminator({ netD: a.netD, nLayersD: a.nLayersD?.[0], rf: a.rf })] : undefined;
    const rows = rfTable({ size: a.size, shapes: single, nLayers: a.nLayersD, base: { ndf: a.ndf, norm: a.norm, conditional: !a.unconditional } });
    process.stdout.write(a.json ? `${JSON.stringify({ size: a.size, rows })}\n` : `${formatRfTable(rows, a.size)}\n`);
  },
};
