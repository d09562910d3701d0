/**
 * Every discriminator kind in the registry has a forward pass, an ONNX export that agrees with it,
 * parameter/MAC counts, a row in the receptive-field table, `--net-d` names that select it, a
 * training run through the command line that resumes and exports, and a row in docs/extending.md.
 * A new kind is checked here without editing this file.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  countMacs,
  countParams,
  DISCRIMINATOR_KINDS,
  discriminatorArch,
  discriminatorInputChannels,
  discriminatorLabel,
  discriminatorOutputSide,
  discriminatorReceptiveField,
  discriminatorShapes,
  type DiscriminatorKind,
  paramSpecs,
  resolveDiscriminator,
} from '../../src/nets/arch.ts';
import { rfTable } from '../../src/nets/rf-table.ts';
import { NET_D_CHOICES } from '../../src/options/train.ts';
import { discriminatorSpec, exportConvNetOnnx } from '../../src/export/export.ts';
import { randomInputs, verifyOnnxAgainstTfjs } from '../../src/export/verify.ts';
import { selectEngine } from '../../src/train/engines/registry.ts';
import { randomParams } from '../export/fixtures.ts';
import { synthesizeDataset } from '../../src/data/synth.ts';
import { networkParams, readCheckpoint } from '../../src/train/checkpoint.ts';
import { decodeOnnxModel } from '../../src/onnx/proto.ts';
import { runCli } from '../helpers/capture.ts';

const KINDS = Object.keys(DISCRIMINATOR_KINDS) as DiscriminatorKind[];
const DOC = readFileSync(path.resolve(import.meta.dirname, '../../docs/extending.md'), 'utf8');
/** The guide's own section, from its heading to the next (other sections walk through other files). */
const SECTION_START = DOC.indexOf('## Add a discriminator');
const NEXT_SECTION = DOC.indexOf('\n## ', SECTION_START + 1);
const SECTION = DOC.slice(SECTION_START, NEXT_SECTION === -1 ? undefined : NEXT_SECTION);

/** The shallowest depth of a kind, kept small so the test nets fit 32² inputs. */
function smallArch(kind: DiscriminatorKind, conditional = true) {
  return discriminatorArch({ kind, nLayers: DISCRIMINATOR_KINDS[kind].depths.min, ndf: 4, conditional });
}

/** The kind `--rf` picks for a receptive field, or undefined when none has it. */
function kindByRf(rf: number): DiscriminatorKind | undefined {
  try {
    return resolveDiscriminator({ rf }).kind;
  } catch {
    return undefined;
  }
}

describe.each(KINDS)('discriminator kind %s', (kind) => {
  it('builds a layer list whose forward pass and ONNX export agree (conditional and not)', async () => {
    await selectEngine('cpu');
    for (const conditional of [true, false]) {
      const arch = smallArch(kind, conditional);
      expect(arch.options.kind).toBe(kind);
      const params = randomParams(arch, 3);
      const bytes = exportConvNetOnnx(discriminatorSpec(arch, params, {}));
      const input = randomInputs(2, discriminatorInputChannels(arch), 32, 4);
      const v = await verifyOnnxAgainstTfjs(bytes, { arch, params }, [input], 'instance');
      expect(v.ok, `max abs error ${v.maxAbsError}`).toBe(true);
    }
  });

  it('has counts that add up its parameter tensors and layers, and a row in the receptive-field table', () => {
    const arch = smallArch(kind);
    const trainable = paramSpecs(arch).filter((p) => p.trainable);
    expect(countParams(arch)).toBe(trainable.reduce((s, p) => s + p.shape.reduce((a, b) => a * b, 1), 0));
    expect(countParams(arch)).toBeGreaterThan(0);
    expect(countMacs(arch, 64)).toBeGreaterThan(0);
    expect(discriminatorOutputSide(arch, 64)).toBeGreaterThan(0);
    const rows = rfTable({ size: 64 }).filter((r) => r.kind === kind);
    expect(rows.length).toBeGreaterThan(0);
    const row = rows.find((r) => r.nLayers === arch.options.nLayers)!;
    expect(row).toMatchObject({ receptiveField: discriminatorReceptiveField(arch), params: countParams(discriminatorArch({ kind, nLayers: row.nLayers })) });
  });

  it('is selected by its --net-d names and by its receptive field', () => {
    for (const name of DISCRIMINATOR_KINDS[kind].netD) {
      expect(NET_D_CHOICES as readonly string[]).toContain(name);
      expect(resolveDiscriminator({ netD: name, nLayersD: DISCRIMINATOR_KINDS[kind].depths.min }).kind).toBe(kind);
    }
    const arch = smallArch(kind);
    if (arch.scales.length === 1) expect(resolveDiscriminator({ rf: discriminatorReceptiveField(arch) })).toEqual({ kind, nLayers: arch.options.nLayers });
    // A kind of several scales has several receptive fields: --rf never picks it.
    else expect(kindByRf(discriminatorReceptiveField(arch))).not.toBe(kind);
  });

  it('is a row of the table in docs/extending.md ("Add a discriminator")', () => {
    const section = SECTION;
    expect(section).toMatch(new RegExp(`^\\| \`${kind}\` \\|`, 'm'));
  });
});

describe.each(KINDS)('pix2pix train / export with the discriminator kind %s', (kind) => {
  const spec = DISCRIMINATOR_KINDS[kind];
  let base = '';
  let data = '';
  beforeAll(async () => {
    base = mkdtempSync(path.join(tmpdir(), `p2p-dkind-${kind}-`));
    data = path.join(base, 'data');
    await synthesizeDataset({ out: data, count: 4, size: 32, seed: 5 });
  });
  afterAll(() => rmSync(base, { recursive: true, force: true }));

  it('trains a step by its --net-d name, resumes from the checkpoint, and exports a D that onnxruntime runs like the forward pass', async () => {
    const out = path.join(base, 'run');
    const tiny = ['--data', data, '--out', out, '--size', '32', '--ngf', '4', '--ndf', '4', '--engine', 'cpu', '--sample-rows', '1', '--val-limit', '1'];
    const netD = ['--net-d', spec.netD.at(-1)!, '--n-layers-d', String(spec.depths.min)];
    const first = await runCli(['train', ...tiny, ...netD, '--epochs', '1']);
    expect(first.code, first.stderr).toBeUndefined();
    const ckpt = await readCheckpoint(path.join(out, 'checkpoint.bin'));
    const arch = discriminatorArch(ckpt.header.model.discriminator!);
    expect(arch.options.kind).toBe(kind);
    expect(first.stderr).toContain(`D: ${discriminatorLabel(arch)}, receptive field`);

    const again = await runCli(['train', ...tiny, ...netD, '--epochs', '2', '--resume']);
    expect(again.code, again.stderr).toBeUndefined();
    expect(again.stderr).toMatch(/resuming from .* after epoch 1/);
    expect((await readCheckpoint(path.join(out, 'checkpoint.bin'))).header.model.epoch).toBe(2);

    const onnx = path.join(base, 'd.onnx');
    const exported = await runCli(['export', '--checkpoint', out, '--net', 'D', '--out', onnx]);
    expect(exported.code, exported.stderr).toBeUndefined();
    const resumed = await readCheckpoint(path.join(out, 'checkpoint.bin'));
    const params = networkParams(resumed, 'D', arch);
    const input = randomInputs(2, discriminatorInputChannels(arch), 32, 8);
    const v = await verifyOnnxAgainstTfjs(readFileSync(onnx), { arch, params }, [input], 'instance');
    expect(v.ok, `max abs error ${v.maxAbsError}`).toBe(true);
    const outputs = (decodeOnnxModel(readFileSync(onnx)).graph as { output: unknown[] }).output;
    expect(outputs.length).toBe(arch.scales.length);
  });
});

describe('the discriminator registry', () => {
  it('gives every receptive field one kind and depth of one scale', () => {
    const oneScale = discriminatorShapes()
      .map((s) => discriminatorArch(s))
      .filter((a) => a.scales.length === 1);
    const fields = oneScale.map((a) => discriminatorReceptiveField(a));
    expect(new Set(fields).size).toBe(fields.length);
  });
  it('reads checkpoints written before kinds existed (nLayers 0 was the PixelGAN)', () => {
    expect(discriminatorArch({ nLayers: 0 }).options.kind).toBe('pixel');
    expect(discriminatorArch({ nLayers: 3 }).options.kind).toBe('patch');
    expect(() => discriminatorArch({ kind: 'patch', nLayers: 0 })).toThrow(/a PatchGAN needs n_layers_D in 1\.\.8/);
  });
  it('shows in docs/extending.md code that is in src/nets/arch.ts as written', () => {
    const source = readFileSync(path.resolve(import.meta.dirname, '../../src/nets/arch.ts'), 'utf8');
    const squash = (t: string): string => t.replace(/\s+/g, ' ').trim();
    const blocks = [...SECTION.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);
    expect(blocks.length).toBeGreaterThan(0);
    for (const b of blocks) expect(squash(source)).toContain(squash(b));
  });
  it('lists in docs/extending.md only files that exist', () => {
    const section = SECTION;
    const files = [...section.matchAll(/`((?:src|test|docs)\/[\w./-]+\.(?:ts|md))`/g)].map((m) => m[1]);
    expect(files.length).toBeGreaterThan(5);
    for (const f of files) expect(readFileSync(path.resolve(import.meta.dirname, '../..', f)).length, f).toBeGreaterThan(0);
  });
});
