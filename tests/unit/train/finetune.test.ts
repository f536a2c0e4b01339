/**
 * finetuneClassifier: LoRA training on models/distilbert-mini (a new head, as
 * AutoModelForSequenceClassification adds one) lowers the loss on a separable toy set, trains < 5%
 * of the parameters and changes no base weight; 'head' and 'full' modes on the seqcls-tiny DistilBERT
 * fixture; merge → unmerge restores the base; the trained adapter saves under PEFT's names.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/backend/backend.js';
import { ConfigError } from '../../../src/errors.js';
import { parseSafetensors } from '../../../src/io/safetensors.js';
import { randomClassifierHead } from '../../../src/model/classifier/head_params.js';
import { labelConfigFromHf } from '../../../src/model/classifier/labels.js';
import { HookedEncoder } from '../../../src/model/encoder/hooked_encoder.js';
import { finetuneClassifier } from '../../../src/train/finetune.js';
import { fixtureDir } from '../../helpers/fixtures.js';

const scratch = mkdtempSync(join(tmpdir(), 'finetune-'));

beforeAll(async () => {
  await initBackend('cpu', { quiet: true });
});

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** 16 rows; the class is which of two tokens sits at position 2. */
function toyData(vocab: number): { tokenIds: number[][]; labels: number[] } {
  const tokenIds: number[][] = [];
  const labels: number[] = [];
  for (let i = 0; i < 16; i++) {
    const y = i % 2;
    tokenIds.push([Math.min(101, vocab - 1), 20 + i, y === 0 ? 30 : 40, 50 + (i % 5), Math.min(102, vocab - 1)]);
    labels.push(y);
  }
  return { tokenIds, labels };
}

/** Values of every base tensor (params and head), in order. */
function baseValues(m: HookedEncoder): Float32Array[] {
  const host = m.adapters;
  return host.tensors(host.baseWeights()).map((t) => Float32Array.from(t.dataSync()));
}

function meanLoss(m: HookedEncoder, d: { tokenIds: number[][]; labels: number[] }): number {
  const l = m.classifierLoss(d.tokenIds, d.labels);
  const v = l.dataSync()[0] as number;
  l.dispose();
  return v;
}

async function miniClassifier(): Promise<HookedEncoder> {
  const enc = await HookedEncoder.fromPretrained('models/distilbert-mini', { quiet: true });
  const { mlmHead, ...body } = enc.params;
  if (mlmHead !== undefined) for (const t of [mlmHead.W, mlmHead.b, mlmHead.ln.w, mlmHead.ln.b, mlmHead.W_U, mlmHead.b_U]) if (t !== body.W_E) t.dispose();
  const head = randomClassifierHead('distilbert', enc.cfg.dModel, labelConfigFromHf({ num_labels: 2 }), { seed: 3 });
  return new HookedEncoder(enc.cfg, { ...body, mlmHead: undefined }, enc.tokenizer, {}, head);
}

describe('finetuneClassifier (lora) on distilbert-mini', () => {
  let model: HookedEncoder;
  const data = toyData(30522);

  beforeAll(async () => {
    model = await miniClassifier();
  });
  afterAll(() => model.dispose());

  it('lowers the loss, trains < 5% of the parameters and changes no base weight', () => {
    const before = baseValues(model);
    const loss0 = meanLoss(model, data);
    const n0 = tf.memory().numTensors;
    const r = finetuneClassifier(model, data, { mode: 'lora', lora: { r: 8, alpha: 16, dropout: 0.1, targetModules: ['q_lin', 'v_lin'] }, epochs: 6, batchSize: 8, lr: 1e-2, seed: 0, quiet: true });
    const loss1 = meanLoss(model, data);
    process.stderr.write(`distilbert-mini LoRA r=8 q_lin/v_lin: trainable ${r.trainable} / total ${r.total} = ${((100 * r.trainable) / r.total).toFixed(3)}%; loss ${loss0.toFixed(4)} → ${loss1.toFixed(4)}\n`);
    expect(loss1).toBeLessThan(loss0 * 0.7);
    expect(r.trainable / r.total).toBeLessThan(0.05);
    expect(r.trainable).toBe(2 * 2 * (8 * 128 + 128 * 8) + (128 * 128 + 128) + (128 * 2 + 2));
    const after = baseValues(model);
    expect(after.length).toBe(before.length);
    const changed = after.filter((a, i) => a.some((x, k) => x !== (before[i] as Float32Array)[k])).length;
    expect(changed, 'base tensors changed').toBe(0);
    // the adapter's tensors are the only ones left behind
    expect(tf.memory().numTensors - n0).toBe(model.adapters.adapter?.tensors().length);
  });

  it('merge → unmerge restores the base weights within 1e-6', () => {
    const before = baseValues(model);
    model.mergeAdapter();
    const merged = baseValues(model);
    expect(merged.some((m, i) => m.some((x, k) => x !== (before[i] as Float32Array)[k]))).toBe(true);
    model.unmergeAdapter();
    baseValues(model).forEach((a, i) => {
      const b = before[i] as Float32Array;
      let d = 0;
      for (let k = 0; k < a.length; k++) d = Math.max(d, Math.abs((a[k] as number) - (b[k] as number)));
      expect(d).toBeLessThanOrEqual(1e-6);
    });
  });

  it('saves under PEFT names, and a forward with the adapter leaks nothing', async () => {
    const dir = await model.saveAdapter(join(scratch, 'mini-lora'));
    const names = [...parseSafetensors(new Uint8Array(readFileSync(join(dir, 'adapter_model.safetensors')))).tensors.keys()];
    expect(names).toContain('base_model.model.distilbert.transformer.layer.0.attention.q_lin.lora_A.weight');
    expect(names).toContain('base_model.model.distilbert.transformer.layer.1.attention.v_lin.lora_B.weight');
    expect(names).toContain('base_model.model.pre_classifier.weight');
    expect(names).toContain('base_model.model.classifier.bias');
    const cfg = JSON.parse(readFileSync(join(dir, 'adapter_config.json'), 'utf8')) as Record<string, unknown>;
    expect(cfg).toMatchObject({ peft_type: 'LORA', task_type: 'SEQ_CLS', r: 8, lora_alpha: 16, target_modules: ['q_lin', 'v_lin'], modules_to_save: ['classifier', 'score'], bias: 'none', use_rslora: false });
    const n0 = tf.memory().numTensors;
    const out = model.classify(data.tokenIds);
    expect(tf.memory().numTensors - n0).toBe(1);
    out.dispose();
  });
});

describe('finetuneClassifier (head, full) on the seqcls-tiny DistilBERT', () => {
  const dir = fixtureDir('seqcls-tiny/distilbert');
  const data = toyData(1000);

  it("'head' trains only the head (base body unchanged) and lowers the loss", async () => {
    const m = await HookedEncoder.fromPretrained(dir, { quiet: true });
    const body = m.adapters.tensors({ params: m.params, classifier: undefined }).map((t) => Float32Array.from(t.dataSync()));
    const loss0 = meanLoss(m, data);
    const r = finetuneClassifier(m, data, { mode: 'head', epochs: 8, batchSize: 8, lr: 1e-2, quiet: true });
    expect(meanLoss(m, data)).toBeLessThan(loss0);
    const headSize = m.adapters.slots().filter((s) => s.head).reduce((a, s) => a + s.W.size + (s.b?.size ?? 0), 0);
    expect(r.trainable).toBe(headSize);
    m.adapters.tensors({ params: m.params, classifier: undefined }).forEach((t, i) => expect(Float32Array.from(t.dataSync())).toEqual(body[i]));
    m.dispose();
  });

  it("'full' trains every weight, with validation figures and early stopping", async () => {
    const m = await HookedEncoder.fromPretrained(dir, { quiet: true });
    const loss0 = meanLoss(m, data);
    const seen: number[] = [];
    const r = finetuneClassifier(m, data, {
      mode: 'full', epochs: 6, batchSize: 4, lr: 3e-3, quiet: true, validationSplit: 0.25, logEvery: 2,
      earlyStopping: { patience: 3, metric: 'loss' }, onProgress: (p) => seen.push(p.step), loss: 'focal', focal: { gamma: 1 },
    });
    expect(r.trainable).toBe(r.total);
    expect(seen.length).toBeGreaterThan(0);
    expect(r.history[0]?.['valLoss']).toBeTypeOf('number');
    expect(meanLoss(m, data)).toBeLessThan(loss0);
    m.dispose();
  });

  it('a model without a head is a ConfigError', async () => {
    const m = await HookedEncoder.fromPretrained(fixtureDir('distilbert-tiny'), { quiet: true });
    expect(() => finetuneClassifier(m, data)).toThrow(ConfigError);
    m.dispose();
  });
});
