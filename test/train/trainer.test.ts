import { describe, expect, it } from 'vitest';
import { changedSettings } from '../../src/train/trainer.ts';
import type { TrainConfig } from '../../src/train/config.ts';

describe('what a resumption may not change', () => {
  it('lists settings changed, added or dropped, not those that may change on resume', () => {
    expect(changedSettings({ ndf: 64, lr: 2e-4 }, { ndf: 64, lr: 2e-4 })).toEqual([]);
    expect(changedSettings({ ndf: 64 }, { ndf: 32 })).toEqual(['ndf']);
    expect(changedSettings({}, { loadSize: 286 })).toEqual(['loadSize']);
    // A setting only some runs carry (no default) counts when the resumption drops it.
    expect(changedSettings({ ndf: 64, loadSize: 286 }, { ndf: 64 })).toEqual(['loadSize']);
    expect(changedSettings({ nEpochs: 5, threads: 2, engine: 'cpu' }, { nEpochs: 9, engine: 'wasm' })).toEqual([]);
  });
  it('ignores stored keys that are no training option', () => {
    expect(changedSettings({ ndf: 64, unknownOldKey: 1 } as Partial<TrainConfig>, { ndf: 64 })).toEqual([]);
  });
});
