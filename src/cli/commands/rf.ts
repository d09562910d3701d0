import { withExamples } from '../examples.ts';
import type { Argv, CommandModule } from 'yargs';
import { addOptions, readArgs } from '../../options/cli.ts';
import { canonicalFlag } from '../../options/define.ts';
import { RF_OPTIONS } from '../../options/eval.ts';

/** `pix2pix eval rf`: the receptive-field table of discriminator configurations. */
export const evalRfCommand: CommandModule = {
  command: 'rf',
  describe: 'Print the receptive field, logit map, parameters and MACs of the PatchGAN, PixelGAN and multi-scale PatchGAN discriminators',
  builder: (y: Argv) =>
    withExamples(addOptions(y, RF_OPTIONS), 'eval rf').usage(
      '$0 eval rf [--size 256] [--net-d basic|pixel|n_layers|multiscale] [--n-layers-d N…] [--num-d 2|3] [--rf N]\n\n' +
        'Without --net-d or --rf, lists every kind and depth up to 6 (the multi-scale PatchGAN at --num-d scales, 2 by ' +
        "default). A multi-scale discriminator (pix2pixHD's, as `train --net-d multiscale --num-d 2|3`) shows each scale's " +
        'receptive field and logit map, separated by slashes, the first scale first.',
    ),
  handler: async (argv) => {
    const a = readArgs(RF_OPTIONS, argv);
    const { multiScaleSetting, resolveDiscriminator } = await import('../../nets/arch.ts');
    const { rfTable, formatRfTable } = await import('../../nets/rf-table.ts');
    const scales = multiScaleSetting(a, (key) => canonicalFlag(RF_OPTIONS, key));
    const netD = scales.numD !== undefined ? 'multiscale' : a.netD;
    const single = netD !== undefined || a.rf !== undefined ? [resolveDiscriminator({ netD, nLayersD: a.nLayersD?.[0], rf: a.rf })] : undefined;
    const base = { ndf: a.ndf, norm: a.norm, conditional: !a.unconditional, ...scales };
    const rows = rfTable({ size: a.size, shapes: single, nLayers: a.nLayersD, base });
    process.stdout.write(a.json ? `${JSON.stringify({ size: a.size, rows })}\n` : `${formatRfTable(rows, a.size)}\n`);
  },
};
