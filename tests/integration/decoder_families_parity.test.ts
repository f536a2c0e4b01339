/**
 * Llama, Mistral, Qwen2 and Pythia (GPT-NeoX) parity against Hugging Face transformers 4.41.2 and
 * TransformerLens 2.12 reference outputs: every TL cache entry raw and processed, logits, loss and
 * per-token loss, the raw TL state dict, processed weights, HF hidden states and attention
 * probabilities. Each fixture folder is a parameter: LLAMA_FIXTURE_DIR, MISTRAL_FIXTURE_DIR,
 * QWEN2_FIXTURE_DIR, PYTHIA_FIXTURE_DIR point a run at another checkpoint of the same layout
 * (other GQA ratios, rotary bases and fractions, tied embeddings…).
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/backend.js';
import { decoderHookSpecs } from '../../src/hooks/decoder_hooks.js';
import { setAttentionRoute } from '../../src/ops/attention_core.js';
import { HookedTransformer } from '../../src/model/hooked_transformer.js';
import type { WeightName } from '../../src/model/weights_view.js';
import { expectMatchesRef, loadReference, namesUnder, refRows, type Reference } from '../helpers/reference.js';
import { fixtureDir, type FixtureName } from '../helpers/fixtures.js';
import { expectNoLeak } from '../helpers/memory.js';

const FAMILIES: readonly FixtureName[] = ['llama-tiny', 'mistral-tiny', 'qwen2-tiny', 'pythia-tiny'];

beforeAll(async () => {
  await initBackend(undefined, { quiet: true });
});

describe.each(FAMILIES)('%s parity', (name) => {
  const dir = fixtureDir(name);
  let ref: Reference;
  let tokens: number[][];
  let raw: HookedTransformer;
  let processed: HookedTransformer;

  beforeAll(async () => {
    ref = loadReference(dir);
    tokens = refRows(ref, 'inputs/input_ids');
    raw = await HookedTransformer.fromPretrainedNoProcessing(dir, { quiet: true });
    processed = await HookedTransformer.fromPretrained(dir, { quiet: true });
  });

  afterAll(() => {
    raw?.dispose();
    processed?.dispose();
  });

  function checkRun(model: HookedTransformer, prefix: string, outPrefix: string, keysCfg: string): void {
    const [{ logits, loss }, cache] = model.runWithCache(tokens, { returnType: 'both' });
    try {
      const expectedKeys = ref.json.transformer_lens?.cfg[keysCfg]?.cache_keys ?? [];
      expect(expectedKeys.length).toBeGreaterThan(0);
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

  it('config is read from config.json (normalisation, GQA, rotary, gating, parallel blocks as TL)', () => {
    const tl = ref.json.transformer_lens?.cfg['tl_raw'] as Record<string, unknown> | undefined;
    expect(tl).toBeDefined();
    const c = raw.cfg;
    expect(c.normalizationType).toBe(tl?.['normalization_type']);
    expect(c.nKeyValueHeads ?? null).toBe(tl?.['n_key_value_heads'] ?? null);
    expect(c.dHead).toBe(tl?.['d_head']);
    expect(c.dMlp).toBe(tl?.['d_mlp']);
    expect(c.rotaryDim).toBe(tl?.['rotary_dim']);
    expect(c.rotaryBase).toBe(tl?.['rotary_base']);
    expect(c.gatedMlp === true).toBe(tl?.['gated_mlp']);
    expect(c.parallelAttnMlp === true).toBe(tl?.['parallel_attn_mlp']);
    expect(c.actFn).toBe(tl?.['act_fn']);
    expect(c.eps).toBe(tl?.['eps']);
    expect(c.defaultPrependBos ?? true).toBe(tl?.['default_prepend_bos']);
    expect(processed.cfg.normalizationType).toBe((ref.json.transformer_lens?.cfg['tl_processed'] as Record<string, unknown>)['normalization_type']);
  });

  it('raw model (fromPretrainedNoProcessing) matches tl_raw/* and tl_raw_out/*, with the same cache keys', () => {
    checkRun(raw, 'tl_raw/', 'tl_raw_out/', 'tl_raw');
  });

  it('processed model (fromPretrained) matches tl_processed/* and tl_processed_out/*', () => {
    checkRun(processed, 'tl_processed/', 'tl_processed_out/', 'tl_processed');
  });

  it('with the per-head attention route forced, raw and processed runs still match', () => {
    setAttentionRoute('perHead');
    try {
      checkRun(raw, 'tl_raw/', 'tl_raw_out/', 'tl_raw');
      checkRun(processed, 'tl_processed/', 'tl_processed_out/', 'tl_processed');
    } finally {
      setAttentionRoute('auto');
    }
  });

  it('raw logits, hidden states, attentions and loss match Hugging Face', () => {
    const [{ logits, loss }, cache] = raw.runWithCache(tokens, { returnType: 'both' });
    expectMatchesRef(logits, ref, 'hf/logits');
    expectMatchesRef(loss, ref, 'hf/loss');
    const nLayers = raw.cfg.nLayers;
    for (let l = 0; l < nLayers; l++) {
      expectMatchesRef(cache.get(`blocks.${l}.hook_resid_pre`), ref, `hf/hidden_states.${l}`);
      expectMatchesRef(cache.get(`blocks.${l}.attn.hook_pattern`), ref, `hf/attentions.${l}`);
    }
    // HF's last hidden state is after the final norm's weight; TL's RMSNorm hooks x / scale before it.
    const lnW = raw.params.lnFinal?.w;
    const finalNorm = cache.get('ln_final.hook_normalized');
    const hfLast = raw.cfg.normalizationType === 'RMS' && lnW !== undefined ? tf.mul(finalNorm, lnW) : finalNorm;
    expectMatchesRef(hfLast, ref, `hf/hidden_states.${nLayers}`);
    if (hfLast !== finalNorm) hfLast.dispose();
    logits.dispose();
    loss.dispose();
    cache.dispose();
  });

  it('processed weights match tl_weights/* (W_K/W_V expanded per query head with GQA)', () => {
    const names = namesUnder(ref, 'tl_weights/');
    expect(names.length).toBeGreaterThan(0);
    for (const n of names) expectMatchesRef(processed.weights.get(n as WeightName), ref, `tl_weights/${n}`);
  });

  it('raw state dict has exactly TL names (incl. _W_K/_W_V with GQA) and values', () => {
    const sd = raw.stateDict();
    try {
      const names = namesUnder(ref, 'tl_state_dict_raw/');
      expect([...sd.keys()].sort()).toEqual([...names].sort());
      for (const n of names) {
        const t = sd.get(n);
        expect(t, `stateDict lacks ${n}`).toBeDefined();
        if (t !== undefined) expectMatchesRef(t, ref, `tl_state_dict_raw/${n}`);
      }
    } finally {
      for (const t of sd.values()) t.dispose();
    }
  });

  it('every hook name in the fixture is in the generated hook table', () => {
    const table = new Set(decoderHookSpecs(raw.cfg).map((s) => s.name));
    const used = new Set([...namesUnder(ref, 'tl_raw/'), ...namesUnder(ref, 'tl_processed/')]);
    expect([...used].filter((n) => !table.has(n))).toEqual([]);
  });

  it('forward and runWithCache leave no tensors behind', () => {
    expectNoLeak(() => raw.forward(tokens), () => 1).dispose();
    expectNoLeak(() => {
      const [out, cache] = processed.runWithCache(tokens, { useAttnResult: true, useSplitQkvInput: true, useHookMlpIn: true });
      out.dispose();
      cache.dispose();
    });
  });
});
