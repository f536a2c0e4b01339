/**
 * DistilBERT and BERT parity against Hugging Face transformers and TransformerLens HookedEncoder
 * reference outputs. Fixture folders are parameters: DISTILBERT_FIXTURE_DIR / BERT_FIXTURE_DIR.
 */
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/backend.js';
import { setAttentionRoute } from '../../src/ops/attention_core.js';
import { HookedEncoder } from '../../src/model/encoder/hooked_encoder.js';
import { maskedMeanPool } from '../../src/model/encoder/pooling.js';
import { expectMatchesRef, loadReference, maxAbsDiff, namesUnder, refRows, type Reference } from '../helpers/reference.js';
import { fixtureDir } from '../helpers/fixtures.js';

const DISTIL = fixtureDir('distilbert-tiny');
const BERT = fixtureDir('bert-tiny');

beforeAll(async () => {
  await initBackend(undefined, { quiet: true });
});

describe(`DistilBERT parity (${DISTIL})`, () => {
  let ref: Reference;
  let model: HookedEncoder;
  let ids: number[][];
  let mask: number[][];
  beforeAll(async () => {
    ref = loadReference(DISTIL);
    ids = refRows(ref, 'inputs/input_ids');
    mask = refRows(ref, 'inputs/attention_mask');
    model = await HookedEncoder.fromPretrained(DISTIL, { quiet: true });
  });
  afterAll(() => model?.dispose());

  it('forward with no hooks (position embeddings added by broadcast, norms fused on the native path) matches HF and equals the hooked run bit for bit', () => {
    const before = tf.memory().numTensors;
    const logits = model.forward(ids, { attentionMask: mask, returnType: 'logits' }) as tf.Tensor;
    expect(tf.memory().numTensors).toBe(before + 1);
    expectMatchesRef(logits, ref, 'hf_mlm/logits');
    const [hooked, cache] = model.runWithCache(ids, { attentionMask: mask, namesFilter: ['embed.hook_pos_embed', 'embed.ln.hook_scale'] });
    expect(cache.get('embed.hook_pos_embed').shape).toEqual([ids.length, (ids[0] as number[]).length, model.cfg.dModel]);
    expect(maxAbsDiff(logits, hooked as tf.Tensor)).toBe(0);
    tf.dispose([logits, hooked as tf.Tensor]);
    cache.dispose();
  });

  it.each(['auto', 'perHead'] as const)('MLM logits, embeddings, block outputs and patterns match HF (padded batch; attention route %s)', (route) => {
    setAttentionRoute(route);
    const [logits, cache] = model.runWithCache(ids, { attentionMask: mask });
    expectMatchesRef(logits as tf.Tensor, ref, 'hf_mlm/logits');
    expectMatchesRef(cache.get('hook_full_embed'), ref, 'hf/hidden_states.0');
    for (let l = 0; l < model.cfg.nLayers; l++) {
      expectMatchesRef(cache.get(`blocks.${l}.hook_normalized_resid_post`), ref, `hf/hidden_states.${l + 1}`);
      expectMatchesRef(cache.get(`blocks.${l}.attn.hook_pattern`), ref, `hf/attentions.${l}`);
    }
    expect(cache.has('embed.hook_token_type_embed')).toBe(false);
    (logits as tf.Tensor).dispose();
    cache.dispose();
    setAttentionRoute('auto');
  });

  it('hook_q reshaped to [batch, pos, d_model] is q_lin; its masked mean-pool is q_lin_meanpool', () => {
    const before = tf.memory().numTensors;
    const [out, cache] = model.runWithCache(ids, { attentionMask: mask, namesFilter: (n) => n.endsWith('attn.hook_q'), returnType: 'none' });
    expect(out).toBeUndefined();
    for (let l = 0; l < model.cfg.nLayers; l++) {
      const q = cache.get(`blocks.${l}.attn.hook_q`);
      const flat = q.reshape([q.shape[0] as number, q.shape[1] as number, model.cfg.dModel]);
      expectMatchesRef(flat, ref, `q_lin/${l}`);
      const pooled = maskedMeanPool(flat, mask);
      expectMatchesRef(pooled, ref, `q_lin_meanpool/${l}`);
      flat.dispose();
      pooled.dispose();
    }
    cache.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('the base_model/ folder (DistilBertModel, no head) gives the same hidden states', async () => {
    const base = await HookedEncoder.fromPretrained(join(DISTIL, 'base_model'), { quiet: true });
    expect(base.hasMlmHead).toBe(false);
    const h = base.forward(ids, { attentionMask: mask }) as tf.Tensor;
    expectMatchesRef(h, ref, 'hf/last_hidden_state');
    const h2 = model.forward(ids, { attentionMask: mask, returnType: 'embeddings' }) as tf.Tensor;
    expect(Array.from(h2.dataSync())).toEqual(Array.from(h.dataSync()));
    expect(() => base.forward(ids, { returnType: 'logits' })).toThrow(/^HookedEncoder.forward: .*no MLM head/);
    expect(() => base.runWithHooks(ids, { returnType: 'logits' })).toThrow(/^HookedEncoder.runWithHooks: .*no MLM head/);
    expect(() => base.runWithCache(ids, { returnType: 'logits' })).toThrow(/^HookedEncoder.runWithCache: .*no MLM head/);
    h.dispose();
    h2.dispose();
    base.dispose();
  });

  it('unpadded positions do not depend on how much padding follows', () => {
    const len = mask[1]?.filter((v) => v === 1).length ?? 0;
    const row = (ids[1] ?? []).slice(0, len);
    const variants = [0, 5, 20].map((pad) => ({ ids: [[...row, ...Array<number>(pad).fill(0)]], mask: [[...row.map(() => 1), ...Array<number>(pad).fill(0)]] }));
    const outs = variants.map((v) => {
      const h = model.forward(v.ids, { attentionMask: v.mask, returnType: 'embeddings' }) as tf.Tensor3D;
      const real = h.slice([0, 0, 0], [1, len, model.cfg.dModel]).dataSync();
      h.dispose();
      return real;
    });
    for (const o of outs.slice(1)) {
      const maxErr = Math.max(...Array.from(o).map((v, i) => Math.abs(v - (outs[0]?.[i] as number))));
      expect(maxErr).toBeLessThan(1e-5);
    }
  });
});

describe(`BERT parity with TransformerLens HookedEncoder (${BERT})`, () => {
  let ref: Reference;
  let model: HookedEncoder;
  let ids: number[][];
  let mask: number[][];
  beforeAll(async () => {
    ref = loadReference(BERT);
    ids = refRows(ref, 'inputs/input_ids');
    mask = refRows(ref, 'inputs/attention_mask');
    model = await HookedEncoder.fromPretrained(BERT, { quiet: true });
  });
  afterAll(() => model?.dispose());

  it('every tl/ hook, tl_out/logits and hf/logits match, with the same key set', () => {
    const [logits, cache] = model.runWithCache(ids, { attentionMask: mask });
    const tlRef = ref.json['transformer_lens'] as unknown as { cache_keys: string[] };
    expect(cache.keys()).toEqual(tlRef.cache_keys);
    const names = namesUnder(ref, 'tl/');
    expect(names.length).toBe(tlRef.cache_keys.length);
    for (const n of names) expectMatchesRef(cache.get(n), ref, `tl/${n}`);
    expectMatchesRef(logits as tf.Tensor, ref, 'tl_out/logits');
    expectMatchesRef(logits as tf.Tensor, ref, 'hf/logits');
    (logits as tf.Tensor).dispose();
    cache.dispose();
  });

  it('parameters match tl_state_dict/* under TL names', () => {
    const sd = model.stateDict();
    const names = namesUnder(ref, 'tl_state_dict/');
    expect([...sd.keys()].sort()).toEqual([...names].sort());
    for (const n of names) expectMatchesRef(sd.get(n) as tf.Tensor, ref, `tl_state_dict/${n}`);
    for (const t of sd.values()) t.dispose();
  });

  it('200 runWithCache + dispose calls leave the tensor count where it was', () => {
    const before = tf.memory().numTensors;
    for (let i = 0; i < 200; i++) {
      const [out, cache] = model.runWithCache(ids, { attentionMask: mask });
      (out as tf.Tensor).dispose();
      cache.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
  });
});
