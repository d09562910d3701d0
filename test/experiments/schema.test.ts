import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { hashOf, stableStringify } from '../../src/experiments/hash.ts';
import { resolveExperiment, sizedNetG } from '../../src/experiments/resolve.ts';
import { ENGINE_CHOICES, parseExperiment } from '../../src/experiments/schema.ts';
import { UserError } from '../../src/util/errors.ts';

const BASE = `experiment: demo
title: Demo
table: Table 3
task: labels2photo
dataset:
  path: data/cityscapes
  labels: data/gtFine/val
train:
  ngf: 64
  size: 256
  nEpochs: 100
  nEpochsDecay: 100
scorer:
  segmenter: models/fcn.onnx
seeds: [1, 2]
variants:
  - name: rf1
    train: { rf: 1 }
    paper: { pixelAcc: 0.39, classAcc: 0.15, classIoU: 0.10 }
  - name: rf70
    train: { rf: 70 }
profiles:
  full: {}
  quick:
    dataset: { synthetic: { count: 20, size: 128, seed: 3 } }
    train: { ngf: 16, size: 128, nEpochs: 2, nEpochsDecay: 1 }
    scorer: { segmenter: train }
  one:
    seeds: [5]
    variants: [rf70]
`;

function errorOf(text: string): string {
  try {
    parseExperiment(text, 'x.yaml');
  } catch (e) {
    expect(e).toBeInstanceOf(UserError);
    return (e as Error).message;
  }
  throw new Error('expected a UserError');
}

describe('experiment file validation', () => {
  it('accepts a complete file', () => {
    const spec = parseExperiment(BASE, 'x.yaml');
    expect(spec.variants.map((v) => v.name)).toEqual(['rf1', 'rf70']);
    expect(spec.seeds).toEqual([1, 2]);
  });

  it('names the file, line, key path and allowed values of a bad value', () => {
    const msg = errorOf(BASE.replace('train: { rf: 70 }', 'train: { rf: 71 }'));
    expect(msg).toBe('x.yaml:21: variants[1].train.rf: is not a PatchGAN receptive field: use 1, 16, 34, 70, 142, 286 or 574, got 71');
  });

  it('names an unknown key at its own line and lists the allowed keys', () => {
    const msg = errorOf(BASE.replace('  ngf: 64\n', '  ngf: 64\n  nfg: 8\n'));
    expect(msg).toMatch(/^x\.yaml:10: train\.nfg: unknown key; allowed here: direction, netG, netD, nLayersD/);
  });

  it('reports enum, type and reference errors on their lines', () => {
    expect(errorOf(BASE.replace('task: labels2photo', 'task: photo2label'))).toBe(
      'x.yaml:4: task: must be one of labels2photo, photo2labels, color; got "photo2label"',
    );
    expect(errorOf(BASE.replace('  nEpochsDecay: 100\n', '  epochsDecay: 100\n'))).toBe(
      'x.yaml:12: train.epochsDecay: renamed nEpochsDecay; note that epochs is now the total number of epochs (nEpochs + nEpochsDecay)',
    );
    expect(errorOf(BASE.replace('  nEpochs: 100\n', '  nEpochs: many\n'))).toBe('x.yaml:11: train.nEpochs: must be an integer ≥ 0, got "many"');
    expect(errorOf(BASE.replace('variants: [rf70]', 'variants: [rf999]'))).toBe(
      'x.yaml:30: profiles.one.variants[0]: is not a variant of this file; variants: rf1, rf70',
    );
    expect(errorOf(BASE.replace('pixelAcc: 0.39', 'pixAcc: 0.39'))).toMatch(
      /^x\.yaml:19: variants\[0\]\.paper\.pixAcc: unknown key; allowed here: pixelAcc, classAcc, classIoU, classAccPresent, classIoUPresent$/,
    );
  });

  it('rejects duplicate variant names, missing keys and YAML syntax errors with a line', () => {
    expect(errorOf(BASE.replace('- name: rf70', '- name: rf1'))).toMatch(/^x\.yaml:20: variants\[1\]\.name: repeats the variant name 'rf1'/);
    expect(errorOf(BASE.replace('title: Demo\n', ''))).toMatch(/^x\.yaml:1: \(top level\): missing required key 'title'/);
    expect(errorOf(BASE.replace('seeds: [1, 2]', 'seeds: [1, 2'))).toMatch(/^x\.yaml:\d+: not valid YAML: /);
  });

  it('accepts a key comparison of two variants and rejects a bad one on its line', () => {
    const withCompare = BASE.replace('variants:\n', 'compare: { a: rf1, b: rf70 }\nvariants:\n');
    expect(parseExperiment(withCompare, 'x.yaml').compare).toEqual({ a: 'rf1', b: 'rf70' });
    expect(resolveExperiment(parseExperiment(withCompare, 'x.yaml'), 'x.yaml', 'quick').compare).toEqual({ a: 'rf1', b: 'rf70' });
    expect(errorOf(withCompare.replace('b: rf70', 'b: rf7'))).toBe('x.yaml:16: compare.b: is not a variant of this file; variants: rf1, rf70');
    expect(errorOf(withCompare.replace('b: rf70', 'b: rf1'))).toBe('x.yaml:16: compare.b: must name another variant than a');
    expect(errorOf(withCompare.replace('b: rf70', 'c: rf70'))).toMatch(/^x\.yaml:16: compare\.c: unknown key; allowed here: a, b/);
  });

  it('knows exactly the engines of the engine registry', async () => {
    const { ENGINE_NAMES } = await import('../../src/train/engines/registry.ts');
    expect([...ENGINE_CHOICES]).toEqual(['auto', ...ENGINE_NAMES]);
  });

  it('validates every shipped experiment file and resolves each of its profiles', () => {
    const dir = path.resolve(import.meta.dirname, '../../experiments');
    const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'));
    expect(files.sort()).toEqual(['color.yaml', 'generator.yaml', 'losses.yaml', 'patch-size.yaml', 'photo2labels.yaml']);
    for (const f of files) {
      const spec = parseExperiment(readFileSync(path.join(dir, f), 'utf8'), f);
      for (const profile of ['full', 'quick', 'ci']) expect(resolveExperiment(spec, f, profile).runs.length).toBeGreaterThan(0);
    }
  });

  it("ships the paper's numbers (Table 3 and Table 1's ground truth; docs/reference.md#paper-numbers)", () => {
    const dir = path.resolve(import.meta.dirname, '../../experiments');
    const patch = parseExperiment(readFileSync(path.join(dir, 'patch-size.yaml'), 'utf8'), 'patch-size.yaml');
    expect(Object.fromEntries(patch.variants.map((v) => [v.label, v.paper]))).toEqual({
      '1×1': { pixelAcc: 0.39, classAcc: 0.15, classIoU: 0.1 },
      '16×16': { pixelAcc: 0.65, classAcc: 0.21, classIoU: 0.17 },
      '70×70': { pixelAcc: 0.66, classAcc: 0.23, classIoU: 0.17 },
      '286×286': { pixelAcc: 0.42, classAcc: 0.16, classIoU: 0.11 },
    });
    const losses = parseExperiment(readFileSync(path.join(dir, 'losses.yaml'), 'utf8'), 'losses.yaml');
    expect(losses.variants.find((v) => v.kind === 'ground-truth')?.paper).toEqual({ pixelAcc: 0.8, classAcc: 0.26, classIoU: 0.21 });
  });
});

describe('profile resolution', () => {
  const spec = parseExperiment(BASE, 'x.yaml');

  it('full uses the file settings; quick overrides dataset, train and scorer key by key', () => {
    const full = resolveExperiment(spec, 'x.yaml', 'full');
    expect(full.dataset.kind).toBe('folder');
    expect(full.runs[0].train).toMatchObject({ ngf: 64, size: 256, netG: 'unet_256', nEpochs: 100, nEpochsDecay: 100, nLayersD: 0, direction: 'BtoA' });
    expect(full.scorer.segmenter).toBe('models/fcn.onnx');
    const quick = resolveExperiment(spec, 'x.yaml', 'quick');
    expect(quick.dataset.kind).toBe('synthetic');
    expect(quick.runs.find((r) => r.variant === 'rf70')!.train).toMatchObject({
      ngf: 16,
      size: 128,
      netG: 'unet_128',
      nEpochs: 2,
      nEpochsDecay: 1,
      nLayersD: 3,
    });
    expect(quick.scorer.segmenter).toBe('train');
    // The trained segmenter judges labels at the synthetic size.
    expect(quick.scorer.segmenterTrain).toMatchObject({ size: 128, depth: 4 });
  });

  it("keys the trained segmenter's folder by every setting, defaults included", () => {
    const withJudge = (judge: string) =>
      parseExperiment(BASE.replace('scorer: { segmenter: train }', `scorer: { segmenter: train, segmenterTrain: ${judge} }`), 'x.yaml');
    const hash = (judge: string) => resolveExperiment(withJudge(judge), 'x.yaml', 'quick').scorer.segmenterHash;
    // Naming a default changes nothing; a default is part of the key, so changing it retrains the judge.
    expect(hash('{ classWeights: median-frequency, epochs: 30 }')).toBe(hash('{}'));
    expect(hash('{ classWeights: none }')).not.toBe(hash('{}'));
    expect(resolveExperiment(withJudge('{}'), 'x.yaml', 'quick').scorer.segmenterTrain).toMatchObject({
      classWeights: 'median-frequency',
      epochs: 30,
      lr: 0.002,
    });
    // Speed settings do not key it.
    expect(hash('{ engine: cpu, threads: 1 }')).toBe(hash('{}'));
  });

  it('makes one run per variant and seed; a profile can narrow variants and seeds; --only keeps one', () => {
    // The FCN-score's reference rows follow the variants, one run each (real photos do not depend on the seed).
    const refs = (seed: number) => [`ground-truth/${seed}`, `ground-truth-blurred/${seed}`];
    expect(resolveExperiment(spec, 'x.yaml', 'full').runs.map((r) => `${r.variant}/${r.seed}`)).toEqual(['rf1/1', 'rf1/2', 'rf70/1', 'rf70/2', ...refs(1)]);
    expect(resolveExperiment(spec, 'x.yaml', 'one').runs.map((r) => `${r.variant}/${r.seed}`)).toEqual(['rf70/5', ...refs(5)]);
    expect(resolveExperiment(spec, 'x.yaml', 'full', 'rf70').runs.map((r) => r.variant)).toEqual(['rf70', 'rf70']);
  });

  it('rejects an unknown profile or --only variant with the allowed names', () => {
    expect(() => resolveExperiment(spec, 'x.yaml', 'fast')).toThrow("x.yaml: has no profile 'fast'; --profile must be one of full, quick, one");
    expect(() => resolveExperiment(spec, 'x.yaml', 'one', 'rf1')).toThrow(
      "--only rf1: profile 'one' of x.yaml does not run that variant; it runs rf70, ground-truth, ground-truth-blurred",
    );
    expect(() => resolveExperiment(spec, 'x.yaml', 'full', 'rf2')).toThrow(
      '--only rf2: x.yaml has no such variant; its variants are rf1, rf70, ground-truth, ground-truth-blurred',
    );
  });

  it('reports a configuration the networks cannot have as a one-line error naming the variant', () => {
    const bad = parseExperiment(BASE.replace('train: { rf: 70 }', 'train: { rf: 70, netG: unet_100 }'), 'x.yaml');
    expect(() => resolveExperiment(bad, 'x.yaml', 'full')).toThrow(/^x\.yaml: variant 'rf70' \(profile 'full'\): unknown --netG 'unet_100'/);
    // A 286×286 D has no output on 64² images: caught before anything trains.
    const small = parseExperiment(
      BASE.replace('train: { rf: 70 }', 'train: { rf: 286 }')
        .replace('size: 128, seed: 3', 'size: 64, seed: 3')
        .replace('size: 128, nEpochs: 2', 'size: 64, nEpochs: 2'),
      'x.yaml',
    );
    expect(() => resolveExperiment(small, 'x.yaml', 'quick')).toThrow(
      /variant 'rf70' \(profile 'quick'\): a 286×286 discriminator \(n_layers_D 5\) is too deep for 64×64 images/,
    );
  });

  it('sizes bare generator names to the image size', () => {
    expect(sizedNetG('unet', 128)).toBe('unet_128');
    expect(sizedNetG('encoder_decoder', 64)).toBe('encoder_decoder_64');
    expect(sizedNetG(undefined, 32)).toBe('unet_32');
    expect(sizedNetG('unet_256', 128)).toBe('unet_256');
  });
});

describe('work-folder hashing', () => {
  const spec = parseExperiment(BASE, 'x.yaml');
  const hashes = (text: string, profile = 'quick'): Map<string, string> =>
    new Map(
      resolveExperiment(parseExperiment(text, 'x.yaml'), 'x.yaml', profile)
        .runs.filter((r) => r.kind === 'generator')
        .map((r) => [`${r.variant}/${r.seed}`, r.hash]),
    );

  it('is a stable function of the resolved configuration, whatever the key order', () => {
    expect(stableStringify({ b: 1, a: [2, { d: 3, c: undefined }] })).toBe('{"a":[2,{"d":3}],"b":1}');
    expect(hashOf({ a: 1, b: 2 })).toBe(hashOf({ b: 2, a: 1 }));
    const a = resolveExperiment(spec, 'x.yaml', 'quick').runs;
    const b = resolveExperiment(parseExperiment(BASE, 'x.yaml'), 'x.yaml', 'quick').runs;
    expect(a.map((r) => r.hash)).toEqual(b.map((r) => r.hash));
    expect(a[0].workDir).toBe(path.join('_work', 'demo', `rf1-${a[0].hash}`));
    // Written the long way, the same settings hash the same.
    expect(hashes(BASE.replace('train: { rf: 70 }', 'train: { netD: n_layers, nLayersD: 3 }')).get('rf70/1')).toBe(hashes(BASE).get('rf70/1'));
  });

  it('changes with any setting that changes the model, the seed or the dataset', () => {
    const before = hashes(BASE);
    const changed = [
      BASE.replace('train: { ngf: 16, size: 128, nEpochs: 2, nEpochsDecay: 1 }', 'train: { ngf: 16, size: 128, nEpochs: 3, nEpochsDecay: 1 }'),
      BASE.replace('train: { ngf: 16, size: 128, nEpochs: 2, nEpochsDecay: 1 }', 'train: { ngf: 16, size: 128, nEpochs: 2, nEpochsDecay: 1, lr: 0.001 }'),
      BASE.replace('train: { ngf: 16, size: 128, nEpochs: 2, nEpochsDecay: 1 }', 'train: { ngf: 8, size: 128, nEpochs: 2, nEpochsDecay: 1 }'),
      BASE.replace('train: { ngf: 16, size: 128, nEpochs: 2, nEpochsDecay: 1 }', 'train: { ngf: 16, size: 128, nEpochs: 2, nEpochsDecay: 1, loss: L1 }'),
      BASE.replace('seed: 3', 'seed: 4'),
      BASE.replace('count: 20', 'count: 21'),
    ];
    for (const text of changed) {
      const after = hashes(text);
      for (const [k, h] of after) expect(h, `${k} after a change`).not.toBe(before.get(k));
    }
    expect(before.get('rf1/1')).not.toBe(before.get('rf1/2'));
    expect(before.get('rf1/1')).not.toBe(before.get('rf70/1'));
  });

  it('ignores settings that change speed or logs only (engine, valLimit, sampleRows) and the scorer', () => {
    const before = hashes(BASE);
    const same = hashes(
      BASE.replace(
        'train: { ngf: 16, size: 128, nEpochs: 2, nEpochsDecay: 1 }',
        'train: { ngf: 16, size: 128, nEpochs: 2, nEpochsDecay: 1, engine: cpu, valLimit: 3, sampleRows: 1 }',
      ),
    );
    expect(same).toEqual(before);
    const q = resolveExperiment(spec, 'x.yaml', 'quick');
    const q2 = resolveExperiment(
      parseExperiment(BASE.replace('scorer: { segmenter: train }', 'scorer: { segmenter: train, mode: reference }'), 'x.yaml'),
      'x.yaml',
      'quick',
    );
    expect(q2.runs.map((r) => r.hash)).toEqual(q.runs.map((r) => r.hash));
    // …but the score stage has its own key, so a scorer change re-scores without retraining.
    expect(q2.scorer.hash).not.toBe(q.scorer.hash);
  });
});
