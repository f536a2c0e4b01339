/**
 * Probe features through `extractPooledFeatures`: parity of the pooled q_lin output with the
 * Hugging Face reference (`q_lin_meanpool/*` of tests/fixtures/distilbert-tiny), text input through
 * a WordPiece tokenizer whose ids fit the fixture's 1,000-token vocabulary, batching invariance,
 * hook names, typed errors, no leaks; and the fast pseudo-perplexity against `pseudoLogLikelihood`.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/backend/backend.js';
import { ConfigError, DatasetError, HookNameError } from '../../../src/errors.js';
import { HookedEncoder } from '../../../src/model/encoder/hooked_encoder.js';
import { pseudoLogLikelihood } from '../../../src/model/encoder/pooling.js';
import { extractPooledFeatures, probeHookName } from '../../../src/probe/features.js';
import { pseudoPerplexities } from '../../../src/probe/pseudo_perplexity.js';
import { loadTokenizer, shippedTokenizerDir } from '../../../src/tokenizers/load.js';
import { expectMatchesRef, loadReference, refRows, type Reference } from '../../helpers/reference.js';
import { fixtureDir } from '../../helpers/fixtures.js';

const FIXTURE = fixtureDir('distilbert-tiny');
const tmp = mkdtempSync(join(tmpdir(), 'tfjs-lens-probe-vocab-'));
let ref: Reference;
let plain: HookedEncoder;
let texty: HookedEncoder;

const TEXTS = ['the first film was good', 'a much longer sentence about the city and the world and the war in the north', 'what time is it', 'they said it would be there', 'no'];

beforeAll(async () => {
  await initBackend(undefined, { quiet: true });
  ref = loadReference(FIXTURE);
  plain = await HookedEncoder.fromPretrained(FIXTURE, { quiet: true });
  // A 1,000-token WordPiece vocabulary: BERT's special tokens + 995 common bert-base-uncased words.
  const words = readFileSync(join(shippedTokenizerDir('distilbert-base-uncased'), 'vocab.txt'), 'utf8').split('\n').slice(1996).filter((w) => /^[a-z]+$/.test(w));
  writeFileSync(join(tmp, 'vocab.txt'), `${['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', ...words.slice(0, 995)].join('\n')}\n`);
  const tok = await loadTokenizer(tmp, { modelType: 'distilbert' });
  texty = await HookedEncoder.fromPretrained(FIXTURE, { quiet: true, tokenizer: tok });
});
afterAll(() => {
  plain?.dispose();
  texty?.dispose();
  rmSync(tmp, { recursive: true, force: true });
});

describe('extractPooledFeatures', () => {
  it('pooled blocks.{L}.attn.hook_q equals HF q_lin mask-mean-pool (q_lin_meanpool/0, /1), padded batch', () => {
    const ids = refRows(ref, 'inputs/input_ids');
    const attentionMask = refRows(ref, 'inputs/attention_mask');
    for (const l of [0, 1]) {
      const before = tf.memory().numTensors;
      const m = extractPooledFeatures(plain, { ids, attentionMask }, { hookName: probeHookName('q', l, plain.cfg.nLayers) });
      expect(tf.memory().numTensors).toBe(before);
      expect([m.rows, m.cols]).toEqual([2, 64]);
      const t = tf.tensor2d(m.data, [m.rows, m.cols]);
      expectMatchesRef(t, ref, `q_lin_meanpool/${l}`);
      t.dispose();
    }
  });

  it('text input equals the same ids by hand; rows do not depend on batching or length order', () => {
    const enc = texty.encode(TEXTS, 128);
    expect(Math.max(...enc.ids.flat())).toBeLessThan(1000);
    const hookName = 'blocks.1.attn.hook_q';
    const a = extractPooledFeatures(texty, TEXTS, { hookName, batchSize: 2 });
    const b = extractPooledFeatures(texty, enc, { hookName, batchSize: 16 });
    expect(a.rows).toBe(5);
    Array.from(a.data).forEach((v, i) => expect(v).toBeCloseTo(b.data[i] as number, 4));
    const one = extractPooledFeatures(texty, [TEXTS[1] as string], { hookName });
    Array.from(one.data).forEach((v, i) => expect(v).toBeCloseTo(a.data[64 + i] as number, 4));
    let calls = 0;
    extractPooledFeatures(texty, TEXTS, { hookName: 'hook_full_embed', batchSize: 2, onProgress: () => calls++ });
    expect(calls).toBe(3);
  });

  it('hook names: short names, full names, typed errors', () => {
    expect(probeHookName('q', 0, 2)).toBe('blocks.0.attn.hook_q');
    expect(probeHookName('normalized_resid_post', 1, 2)).toBe('blocks.1.hook_normalized_resid_post');
    expect(probeHookName('mlp_post', 1, 2)).toBe('blocks.1.mlp.hook_post');
    expect(probeHookName('blocks.1.hook_resid_mid', 9, 2)).toBe('blocks.1.hook_resid_mid');
    expect(() => probeHookName('q', 2, 2)).toThrow(ConfigError);
    expect(() => probeHookName('qq', 0, 2)).toThrow(/unknown hook 'qq'/);
    expect(() => extractPooledFeatures(texty, TEXTS, { hookName: 'blocks.0.attn.hook_nope' })).toThrow(HookNameError);
  });

  it('bad text input: empty list, empty row', () => {
    expect(() => extractPooledFeatures(texty, [], { hookName: 'blocks.0.attn.hook_q' })).toThrow(DatasetError);
    expect(() => extractPooledFeatures(texty, ['fine', '  '], { hookName: 'blocks.0.attn.hook_q' })).toThrow(/text 1 is empty/);
  });
});

describe('pseudoPerplexities', () => {
  it('equals pseudoLogLikelihood (full-vocabulary logits) text by text, and leaks nothing', () => {
    const before = tf.memory().numTensors;
    const fast = pseudoPerplexities(texty, TEXTS, { batchSize: 7 });
    expect(tf.memory().numTensors).toBe(before);
    const slow = pseudoLogLikelihood(texty, TEXTS);
    fast.forEach((f, i) => {
      expect(f.nTokens).toBe(slow[i]?.nTokens);
      expect(f.pll).toBeCloseTo(slow[i]?.pll as number, 3);
      expect(f.pseudoPerplexity).toBeGreaterThan(1);
    });
    expect(() => pseudoPerplexities(plain, TEXTS)).toThrow(ConfigError);
    expect(() => pseudoPerplexities(texty, [''])).toThrow(DatasetError);
  });
});
