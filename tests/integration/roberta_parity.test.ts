/**
 * RoBERTa parity against Hugging Face transformers (`RobertaForMaskedLM`, right-padded batch, pad
 * id 1): position ids, embeddings, block outputs, attention patterns and MLM logits; the base model
 * (`RobertaModel`, no prefix, no head) and an untied decoder built from the same weights. The
 * fixture folder is a parameter: ROBERTA_FIXTURE_DIR.
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/backend.js';
import { ConfigError, ShapeError } from '../../src/errors.js';
import { readSafetensorsFile, writeSafetensorsFile } from '../../src/io/safetensors.js';
import { setAttentionRoute } from '../../src/ops/attention_core.js';
import { HookedEncoder } from '../../src/model/encoder/hooked_encoder.js';
import { encoderMaxLength, encoderPositionIds } from '../../src/model/encoder/position_ids.js';
import { expectMatchesRef, loadReference, refRows, type Reference } from '../helpers/reference.js';
import { expectNoLeak } from '../helpers/memory.js';
import { fixtureDir } from '../helpers/fixtures.js';

const ROBERTA = fixtureDir('roberta-tiny');

let ref: Reference;
let model: HookedEncoder;
let ids: number[][];
let mask: number[][];
let tmp: string;

/** A checkpoint folder next to the fixture's config.json, with tensors rewritten by `edit`. */
async function variant(name: string, edit: (tensors: Map<string, { dtype: 'F32'; shape: number[]; data: Float32Array }>) => void, config?: object): Promise<string> {
  const dir = join(tmp, name);
  mkdirSync(dir);
  if (config === undefined) copyFileSync(join(ROBERTA, 'config.json'), join(dir, 'config.json'));
  else writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  const { tensors } = await readSafetensorsFile(join(ROBERTA, 'model.safetensors'));
  const out = new Map([...tensors].map(([k, t]) => [k, { dtype: 'F32' as const, shape: [...t.shape], data: Float32Array.from(t.data) }]));
  edit(out);
  await writeSafetensorsFile(join(dir, 'model.safetensors'), out);
  return dir;
}

beforeAll(async () => {
  await initBackend(undefined, { quiet: true });
  ref = loadReference(ROBERTA);
  ids = refRows(ref, 'inputs/input_ids');
  mask = refRows(ref, 'inputs/attention_mask');
  model = await HookedEncoder.fromPretrained(ROBERTA, { quiet: true });
  tmp = mkdtempSync(join(tmpdir(), 'roberta-'));
});
afterAll(() => {
  model?.dispose();
  rmSync(tmp, { recursive: true, force: true });
});

describe(`RoBERTa parity with HF RobertaForMaskedLM (${ROBERTA})`, () => {
  it('reads the architecture from config.json', () => {
    const hf = ref.json.model['config_passed'] as Record<string, number>;
    expect(model.cfg).toMatchObject({
      modelType: 'roberta', dModel: hf['hidden_size'], nLayers: hf['num_hidden_layers'], nHeads: hf['num_attention_heads'],
      dMlp: hf['intermediate_size'], dVocab: hf['vocab_size'], nCtx: hf['max_position_embeddings'],
      typeVocabSize: hf['type_vocab_size'], padTokenId: hf['pad_token_id'], actFn: 'gelu',
    });
    expect(encoderMaxLength(model.cfg)).toBe((hf['max_position_embeddings'] as number) - (hf['pad_token_id'] as number) - 1);
    expect(model.hasMlmHead).toBe(true);
  });

  it('position ids equal hf/position_ids; hook_pos_embed is W_pos gathered at them', () => {
    const tokens = tf.tensor2d(ids, undefined, 'int32');
    const pos = expectNoLeak(() => encoderPositionIds(tokens, model.cfg), () => 1);
    expect(pos.arraySync()).toEqual(refRows(ref, 'hf/position_ids'));
    const [, cache] = model.runWithCache(ids, { attentionMask: mask, namesFilter: 'embed.hook_pos_embed', returnType: 'none' });
    const gathered = tf.tidy(() => tf.reshape(tf.gather(model.params.W_pos, tf.reshape(pos, [-1])), cache.get('embed.hook_pos_embed').shape));
    expect(Array.from(cache.get('embed.hook_pos_embed').dataSync())).toEqual(Array.from(gathered.dataSync()));
    for (const t of [tokens, pos, gathered]) t.dispose();
    cache.dispose();
  });

  it.each(['auto', 'perHead'] as const)('MLM logits, embeddings, block outputs and patterns match HF (padded batch; attention route %s)', (route) => {
    setAttentionRoute(route);
    try {
      const [logits, cache] = model.runWithCache(ids, { attentionMask: mask });
      expectMatchesRef(logits, ref, 'hf_mlm/logits');
      expectMatchesRef(cache.get('hook_full_embed'), ref, 'hf/hidden_states.0');
      for (let l = 0; l < model.cfg.nLayers; l++) {
        expectMatchesRef(cache.get(`blocks.${l}.hook_normalized_resid_post`), ref, `hf/hidden_states.${l + 1}`);
        expectMatchesRef(cache.get(`blocks.${l}.attn.hook_pattern`), ref, `hf/attentions.${l}`);
      }
      // RoBERTa keeps BERT's single-row token-type embedding, so the hook exists (all ids 0).
      expect(cache.get('embed.hook_token_type_embed').shape).toEqual([ids.length, ids[0]?.length, model.cfg.dModel]);
      logits.dispose();
      cache.dispose();
    } finally {
      setAttentionRoute('auto');
    }
  });

  it('fromPretrainedNoProcessing loads the same model', async () => {
    const raw = await HookedEncoder.fromPretrainedNoProcessing(ROBERTA, { quiet: true });
    const a = raw.forward(ids, { attentionMask: mask });
    expectMatchesRef(a, ref, 'hf_mlm/logits');
    a.dispose();
    raw.dispose();
  });

  it('forward and runWithCache leave no tensors behind', () => {
    const out = expectNoLeak(() => model.forward(ids, { attentionMask: mask }), () => 1);
    out.dispose();
    expectNoLeak(() => {
      const [logits, cache] = model.runWithCache(ids, { attentionMask: mask, useAttnResult: true, useSplitQkvInput: true, useHookMlpIn: true });
      logits.dispose();
      cache.dispose();
    });
    expectNoLeak(() => model.runWithCache(ids, { attentionMask: mask, returnType: 'none' })[1].dispose());
    expect(model.hasHooks()).toBe(false);
  });

  it('real tokens do not depend on how much padding follows (positions come from the ids)', () => {
    const len = mask[1]?.filter((v) => v === 1).length ?? 0;
    const row = (ids[1] ?? []).slice(0, len);
    const pad = model.cfg.padTokenId;
    const outs = [0, 5, 20].map((n) => {
      const h = model.forward([[...row, ...Array<number>(n).fill(pad)]], { attentionMask: [[...row.map(() => 1), ...Array<number>(n).fill(0)]], returnType: 'embeddings' });
      const real = tf.tidy(() => h.slice([0, 0, 0], [1, len, model.cfg.dModel]).dataSync());
      h.dispose();
      return real;
    });
    for (const o of outs.slice(1)) {
      const maxErr = Math.max(...Array.from(o).map((v, i) => Math.abs(v - (outs[0]?.[i] as number))));
      expect(maxErr).toBeLessThan(1e-5);
    }
  });

  it('rows may hold n_ctx − pad_token_id − 1 real tokens, padding not counted', () => {
    const max = encoderMaxLength(model.cfg);
    const pad = model.cfg.padTokenId;
    const longest = [Array.from({ length: max }, (_, i) => 3 + (i % 50)), Array.from({ length: max }, (_, i) => (i < 5 ? 3 : pad))];
    const h = model.forward(longest, { returnType: 'embeddings' });
    expect(h.shape).toEqual([2, max, model.cfg.dModel]);
    h.dispose();
    const tooLong = [[...(longest[0] ?? []), 3]];
    expect(() => model.forward(tooLong)).toThrow(ShapeError);
    expect(() => model.forward(tooLong)).toThrow(/129 non-padding tokens exceed RoBERTa's 128 positions/);
  });
});

describe('RoBERTa checkpoint variants', () => {
  it('RobertaModel (no prefix, no lm_head, with pooler) loads without an MLM head and gives the same hidden states', async () => {
    const dir = await variant('base', (t) => {
      for (const k of [...t.keys()]) {
        const v = t.get(k);
        t.delete(k);
        if (v !== undefined && k.startsWith('roberta.')) t.set(k.slice('roberta.'.length), v);
      }
      t.set('pooler.dense.weight', { dtype: 'F32', shape: [64, 64], data: new Float32Array(64 * 64) });
      t.set('pooler.dense.bias', { dtype: 'F32', shape: [64], data: new Float32Array(64) });
    });
    for (const load of [HookedEncoder.fromPretrained, HookedEncoder.fromPretrainedNoProcessing]) {
      const base = await load(dir, { quiet: true });
      expect(base.hasMlmHead).toBe(false);
      const h = base.forward(ids, { attentionMask: mask });
      const h2 = model.forward(ids, { attentionMask: mask, returnType: 'embeddings' });
      expect(Array.from(h.dataSync())).toEqual(Array.from(h2.dataSync()));
      expect(() => base.forward(ids, { returnType: 'logits' })).toThrow(ConfigError);
      expect(() => base.forward(ids, { returnType: 'logits' })).toThrow(/no MLM head/);
      const [, cache] = base.runWithCache(ids, { attentionMask: mask });
      expect(cache.keys().some((k) => k.startsWith('mlm_head.'))).toBe(false);
      cache.dispose();
      h.dispose();
      h2.dispose();
      base.dispose();
    }
  });

  it('an untied lm_head.decoder.weight (and a tied lm_head.decoder.bias) is read', async () => {
    const dir = await variant('untied', (t) => {
      const we = t.get('roberta.embeddings.word_embeddings.weight');
      const bias = t.get('lm_head.bias');
      if (we === undefined || bias === undefined) throw new Error('fixture lacks word embeddings or lm_head.bias');
      t.set('lm_head.decoder.weight', { ...we, data: we.data.map((v) => 2 * v) });
      t.set('lm_head.decoder.bias', bias);
    });
    const untied = await HookedEncoder.fromPretrained(dir, { quiet: true });
    const wu = untied.params.mlmHead?.W_U;
    const we = untied.params.W_E;
    expect(wu?.shape).toEqual([we.shape[1], we.shape[0]]);
    const err = tf.tidy(() => tf.max(tf.abs(tf.sub(wu ?? tf.zeros([1]), tf.mul(tf.transpose(we), 2)))).dataSync()[0]);
    expect(err).toBe(0);
    untied.dispose();
  });

  it('missing tensors are a WeightLoadError naming RoBERTa; an unsupported model_type is a ConfigError listing the supported ones', async () => {
    const dir = await variant('broken', (t) => t.delete('roberta.encoder.layer.1.output.dense.bias'));
    await expect(HookedEncoder.fromPretrained(dir, { quiet: true })).rejects.toThrow(/RoBERTa config — missing \(1\): encoder\.layer\.1\.output\.dense\.bias/);
    const cfg = JSON.parse(JSON.stringify(ref.json.model['config_passed'])) as Record<string, unknown>;
    const xlm = await variant('xlm', () => undefined, { ...cfg, model_type: 'xlm-roberta' });
    await expect(HookedEncoder.fromPretrained(xlm, { quiet: true })).rejects.toThrow(ConfigError);
    await expect(HookedEncoder.fromPretrained(xlm, { quiet: true })).rejects.toThrow(/unsupported model_type 'xlm-roberta' — expected one of bert, distilbert, roberta/);
    const badPad = await variant('badpad', () => undefined, { ...cfg, model_type: 'roberta', pad_token_id: 129 });
    await expect(HookedEncoder.fromPretrained(badPad, { quiet: true })).rejects.toThrow(/pad_token_id must be an integer in \[0, max_position_embeddings − 2\]/);
  });
});
