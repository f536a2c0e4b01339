/**
 * The shipped Llama-architecture model (models/llama-mini, scripts/train_llama_mini.ts): loads by its
 * short name with and without weight processing (same log-probabilities), its own tokenizer
 * round-trips text, greedy generation gives the same tokens with and without the key/value cache,
 * and it beats an add-one unigram model on held-out documents it never saw (heldout_sample.json
 * ships the documents and the training-token counts).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/backend.js';
import { HookedTransformer } from '../../src/model/hooked_transformer.js';
import { loadTokenizer } from '../../src/tokenizers/load.js';

const DIR = 'models/llama-mini';
interface HeldoutSample {
  readonly texts: string[];
  readonly unigramCounts: number[];
  readonly unigramTotal: number;
}
const sample = JSON.parse(readFileSync(join(DIR, 'heldout_sample.json'), 'utf8')) as HeldoutSample;

/** BOS + the first nCtx - 1 tokens of a text. */
function rowOf(m: HookedTransformer, text: string): number[] {
  const t = m.toTokens(text);
  const ids = t.arraySync()[0] ?? [];
  t.dispose();
  return ids.slice(0, m.cfg.nCtx);
}

let processed: HookedTransformer;
let raw: HookedTransformer;
beforeAll(async () => {
  await initBackend(undefined, { quiet: true });
  processed = await HookedTransformer.fromPretrained('llama-mini', { quiet: true });
  raw = await HookedTransformer.fromPretrainedNoProcessing(DIR, { quiet: true });
});
afterAll(() => {
  processed?.dispose();
  raw?.dispose();
});

describe('llama-mini', () => {
  it('is a Llama-architecture model with grouped-query attention', () => {
    const hf = JSON.parse(readFileSync(join(DIR, 'config.json'), 'utf8')) as Record<string, unknown>;
    expect(hf).toMatchObject({ model_type: 'llama', architectures: ['LlamaForCausalLM'], hidden_act: 'silu', tie_word_embeddings: false });
    const c = raw.cfg;
    expect(c).toMatchObject({ modelType: 'llama', normalizationType: 'RMS', positionalEmbeddingType: 'rotary', gatedMlp: true });
    expect(c.nKeyValueHeads).toBeLessThan(c.nHeads);
    expect(processed.cfg.normalizationType).toBe('RMSPre');
    expect(raw.params.W_pos).toBeUndefined();
  });

  it('its tokenizer round-trips text, with <|endoftext|> as BOS and EOS', async () => {
    const tok = await loadTokenizer(DIR);
    expect(tok.tokenToId('<|endoftext|>')).toBe(raw.cfg.bosTokenId);
    expect(tok.bosTokenId).toBe(raw.cfg.bosTokenId);
    expect(tok.eosTokenId).toBe(raw.cfg.eosTokenId);
    for (const t of [...sample.texts, 'Ünïcödé — “quotes”, émojis 🎬 and  double  spaces\n']) expect(tok.decode(tok.encode(t))).toBe(t);
    const ids = rowOf(processed, 'This movie was fine.');
    expect(ids[0]).toBe(raw.cfg.bosTokenId);
    expect(tok.decode(ids.slice(1))).toBe('This movie was fine.');
  });

  it('processed and unprocessed models give the same log-probabilities', () => {
    const before = tf.memory().numTensors;
    for (const text of sample.texts.slice(0, 3)) {
      const row = rowOf(processed, text);
      const diff = tf.tidy(() => {
        const a = tf.logSoftmax(processed.logits([row]));
        const b = tf.logSoftmax(raw.logits([row]));
        return tf.max(tf.abs(tf.sub(a, b))).dataSync()[0] as number;
      });
      expect(diff).toBeLessThan(1e-4);
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it('greedy generation gives the same tokens with and without the key/value cache', () => {
    const prompt = [rowOf(processed, 'The worst part of this film')];
    const opts = { maxNewTokens: 24, temperature: 0, stopAtEos: false } as const;
    const cached = processed.generate(prompt, opts) as number[][];
    const full = processed.generate(prompt, { ...opts, useKvCache: false }) as number[][];
    expect(cached[0]?.length).toBe((prompt[0]?.length ?? 0) + 24);
    expect(cached).toEqual(full);
  });

  it('held-out loss is below the add-one unigram baseline on the same tokens', () => {
    expect(sample.texts.length).toBeGreaterThan(0);
    expect(sample.texts.length).toBeLessThanOrEqual(20);
    const V = sample.unigramCounts.length;
    expect(V).toBe(raw.cfg.dVocab);
    let model = 0;
    let unigram = 0;
    let n = 0;
    for (const text of sample.texts) {
      const row = rowOf(processed, text);
      model += tf.tidy(() => processed.loss([row], { lossPerToken: true }).sum().dataSync()[0] as number);
      for (const t of row.slice(1)) unigram -= Math.log(((sample.unigramCounts[t] ?? 0) + 1) / (sample.unigramTotal + V));
      n += row.length - 1;
    }
    expect(n).toBeGreaterThan(500);
    expect(model / n).toBeLessThan(unigram / n - 0.5);
  });
});
