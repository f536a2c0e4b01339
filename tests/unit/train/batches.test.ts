/** Seeded epoch batches: a permutation cut into batches, fixed by (seed, epoch), typed errors. */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/errors.js';
import { epochBatches } from '../../../src/train/batches.js';

describe('epochBatches', () => {
  it('covers every row once, in batches of batchSize', () => {
    const b = epochBatches(10, 0, { batchSize: 4, seed: 1 });
    expect(b.map((x) => x.length)).toEqual([4, 4, 2]);
    expect(b.flat().sort((x, y) => x - y)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(epochBatches(10, 0, { batchSize: 4, seed: 1, dropLast: true })).toEqual(b.slice(0, 2));
  });

  it('is fixed by seed and epoch, and differs across epochs and seeds', () => {
    const a = epochBatches(50, 2, { batchSize: 8, seed: 7 });
    expect(epochBatches(50, 2, { batchSize: 8, seed: 7 })).toEqual(a);
    expect(epochBatches(50, 3, { batchSize: 8, seed: 7 })).not.toEqual(a);
    expect(epochBatches(50, 2, { batchSize: 8, seed: 8 })).not.toEqual(a);
  });

  it('throws ConfigError for bad arguments', () => {
    expect(() => epochBatches(10, 0, { batchSize: 0 })).toThrow(ConfigError);
    expect(() => epochBatches(-1, 0, { batchSize: 2 })).toThrow(/nRows/);
    expect(() => epochBatches(10, 0.5, { batchSize: 2 })).toThrow(/epoch/);
    expect(() => epochBatches(10, 0, { batchSize: 2, seed: 1.5 })).toThrow(/seed/);
  });
});
