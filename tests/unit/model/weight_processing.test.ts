/**
 * Each processing step alone preserves the model's function: fold_ln, center_writing_weights and
 * fold_value_biases leave logits unchanged; center_unembed shifts each position's logits by a constant.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/backend/backend.js';
import { HookedTransformer } from '../../../src/model/hooked_transformer.js';
import type { ProcessingOptions } from '../../../src/model/weight_processing.js';
import { loadReference, refRows } from '../../helpers/reference.js';
import { fixtureDir } from '../../helpers/fixtures.js';

const FIXTURE = fixtureDir('gpt2-tiny');
let raw: HookedTransformer;
let tokens: number[][];
let rawLogits: Float32Array;

beforeAll(async () => {
  await initBackend(undefined, { quiet: true });
  raw = await HookedTransformer.fromPretrainedNoProcessing(FIXTURE, { quiet: true });
  tokens = refRows(loadReference(FIXTURE), 'inputs/input_ids');
  const l = raw.logits(tokens);
  rawLogits = l.dataSync() as Float32Array;
  l.dispose();
});
afterAll(() => raw?.dispose());

async function logitsWith(opts: ProcessingOptions): Promise<{ data: Float32Array; m: HookedTransformer }> {
  const m = await HookedTransformer.fromPretrainedNoProcessing(FIXTURE, { ...opts, quiet: true });
  const l = m.logits(tokens);
  const data = l.dataSync() as Float32Array;
  l.dispose();
  return { data, m };
}

const maxDiff = (a: Float32Array, b: Float32Array): number => a.reduce((m, v, i) => Math.max(m, Math.abs(v - (b[i] as number))), 0);

describe('weight processing flags, one at a time', () => {
  for (const flag of ['foldLn', 'centerWritingWeights', 'foldValueBiases'] as const) {
    it(`${flag} alone leaves logits unchanged`, async () => {
      const { data, m } = await logitsWith({ [flag]: true });
      expect(maxDiff(data, rawLogits)).toBeLessThan(1e-4);
      if (flag === 'foldLn') {
        expect(m.cfg.normalizationType).toBe('LNPre');
        expect(m.params.blocks[0]?.ln1).toBeUndefined();
      }
      if (flag === 'foldValueBiases') expect(Math.max(...Array.from(m.params.blocks[0]?.attn.bV.dataSync() ?? []).map(Math.abs))).toBe(0);
      m.dispose();
    });
  }

  it('centerUnembed alone shifts each position by a constant and centres the logits', async () => {
    const { data, m } = await logitsWith({ centerUnembed: true });
    const V = raw.cfg.dVocab;
    for (let r = 0; r < data.length / V; r++) {
      const shift = (data[r * V] as number) - (rawLogits[r * V] as number);
      let mean = 0;
      for (let v = 0; v < V; v++) {
        expect(Math.abs((data[r * V + v] as number) - (rawLogits[r * V + v] as number) - shift)).toBeLessThan(1e-4);
        mean += (data[r * V + v] as number) / V;
      }
      expect(Math.abs(mean)).toBeLessThan(1e-4);
    }
    m.dispose();
  });

  it('loading and processing leaves no stray tensors', async () => {
    const before = tf.memory().numTensors;
    const m = await HookedTransformer.fromPretrained(FIXTURE, { quiet: true });
    m.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('WeightsView', () => {
  it('a weight first read inside a caller tf.tidy stays usable afterwards', async () => {
    const m = await HookedTransformer.fromPretrained(FIXTURE, { quiet: true });
    const s = tf.tidy(() => tf.sum(m.W_U).dataSync()[0]);
    expect(Number.isFinite(s)).toBe(true);
    expect(m.W_U.isDisposed).toBe(false);
    expect(tf.sum(m.W_U).dataSync()[0]).toBe(s);
    m.dispose();
  });
});
