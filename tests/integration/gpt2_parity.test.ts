/**
 * GPT-2 parity against Hugging Face transformers and TransformerLens 2.12 reference outputs.
 * The fixture folder is a parameter: GPT2_FIXTURE_DIR=/path/to/fixture npx vitest run tests/integration
 * (any folder in the same layout: config.json + model.safetensors + reference.{json,safetensors}).
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/backend.js';
import { setAttentionRoute } from '../../src/ops/attention_core.js';
import { HookedTransformer, type LogitsAndLoss } from '../../src/model/hooked_transformer.js';
import type { WeightName } from '../../src/model/weights_view.js';
import { expectMatchesRef, loadReference, namesUnder, refRows, type Reference } from '../helpers/reference.js';
import { fixtureDir } from '../helpers/fixtures.js';

const FIXTURE = fixtureDir('gpt2-tiny');

let ref: Reference;
let tokens: number[][];
let raw: HookedTransformer;
let processed: HookedTransformer;

beforeAll(async () => {
  await initBackend(undefined, { quiet: true });
  ref = loadReference(FIXTURE);
  tokens = refRows(ref, 'inputs/input_ids');
  raw = await HookedTransformer.fromPretrainedNoProcessing(FIXTURE, { quiet: true });
  processed = await HookedTransformer.fromPretrained(FIXTURE, { quiet: true });
});

afterAll(() => {
  raw?.dispose();
  processed?.dispose();
});

function checkRun(model: HookedTransformer, prefix: string, outPrefix: string, keysCfg: string): void {
  const [out, cache] = model.runWithCache(tokens, { returnType: 'both' });
  const { logits, loss } = out as LogitsAndLoss;
  try {
    const expectedKeys = ref.json.transformer_lens?.cfg[keysCfg]?.cache_keys ?? [];
    expect(cache.keys()).toEqual(expectedKeys);
    const names = namesUnder(ref, prefix);
    expect(names.length).toBeGreaterThan(0);
    for (const n of names) expectMatchesRef(cache.get(n), ref, prefix + n);
    expectMatchesRef(logits, ref, `${outPrefix}logits`);
    expectMatchesRef(loss, ref, `${outPrefix}loss`);
    const perTok = model.loss(tokens, { lossPerToken: true });
    expectMatchesRef(perTok, ref, `${outPrefix}loss_per_token`);
    perTok.dispose();
  } finally {
    logits.dispose();
    loss.dispose();
    cache.dispose();
  }
}

describe(`GPT-2 parity (${FIXTURE})`, () => {
  it('raw model (fromPretrainedNoProcessing) matches tl_raw/* and tl_raw_out/*, with the same cache keys', () => {
    checkRun(raw, 'tl_raw/', 'tl_raw_out/', 'tl_raw');
  });

  it('processed model (fromPretrained) matches tl_processed/* and tl_processed_out/*', () => {
    checkRun(processed, 'tl_processed/', 'tl_processed_out/', 'tl_processed');
  });

  it('with the per-head attention route forced (attention_core.ts), raw and processed runs still match', () => {
    setAttentionRoute('perHead');
    try {
      checkRun(raw, 'tl_raw/', 'tl_raw_out/', 'tl_raw');
      checkRun(processed, 'tl_processed/', 'tl_processed_out/', 'tl_processed');
    } finally {
      setAttentionRoute('auto');
    }
  });

  it('raw logits, hidden states, attentions and loss match Hugging Face', () => {
    const [out, cache] = raw.runWithCache(tokens, { returnType: 'both' });
    const { logits, loss } = out as LogitsAndLoss;
    expectMatchesRef(logits, ref, 'hf/logits');
    expectMatchesRef(loss, ref, 'hf/loss');
    const nLayers = raw.cfg.nLayers;
    for (let l = 0; l < nLayers; l++) {
      expectMatchesRef(cache.get(`blocks.${l}.hook_resid_pre`), ref, `hf/hidden_states.${l}`);
      expectMatchesRef(cache.get(`blocks.${l}.attn.hook_pattern`), ref, `hf/attentions.${l}`);
    }
    expectMatchesRef(cache.get('ln_final.hook_normalized'), ref, `hf/hidden_states.${nLayers}`);
    logits.dispose();
    loss.dispose();
    cache.dispose();
  });

  it('flag-gated hooks match tl_raw_flags/*', () => {
    const flagNames = namesUnder(ref, 'tl_raw_flags/');
    const [o1, c1] = raw.runWithCache(tokens, { useAttnResult: true, useSplitQkvInput: true, useHookMlpIn: true });
    for (const n of flagNames.filter((x) => !x.endsWith('hook_attn_in'))) expectMatchesRef(c1.get(n), ref, `tl_raw_flags/${n}`);
    // The shared hooks stay equal with the flags on.
    expectMatchesRef(o1 as tf.Tensor, ref, 'tl_raw_out/logits');
    (o1 as tf.Tensor).dispose();
    c1.dispose();
    const [o2, c2] = raw.runWithCache(tokens, { useAttnIn: true, namesFilter: (n) => n.endsWith('hook_attn_in') });
    for (const n of flagNames.filter((x) => x.endsWith('hook_attn_in'))) expectMatchesRef(c2.get(n), ref, `tl_raw_flags/${n}`);
    expectMatchesRef(o2 as tf.Tensor, ref, 'tl_raw_out/logits');
    (o2 as tf.Tensor).dispose();
    c2.dispose();
  });

  it('processed weights match tl_weights/*', () => {
    for (const n of namesUnder(ref, 'tl_weights/')) {
      expectMatchesRef(processed.weights.get(n as WeightName), ref, `tl_weights/${n}`);
    }
  });

  it('raw weights match tl_state_dict_raw/* (TL parameter names)', () => {
    const sd = raw.stateDict();
    const names = namesUnder(ref, 'tl_state_dict_raw/');
    expect(names.length).toBeGreaterThan(0);
    for (const n of names) {
      const t = sd.get(n);
      expect(t, `stateDict lacks ${n}`).toBeDefined();
      if (t !== undefined) expectMatchesRef(t, ref, `tl_state_dict_raw/${n}`);
    }
    for (const t of sd.values()) t.dispose();
  });
});
