/**
 * Review fixes of issue 19's fine-tuning: `loadClassifier` keeps a checkpoint's own head (any width;
 * a requested class count that differs is a UsageError) and frees the MLM head it replaces; one
 * tokeniser (`tokenizeForClassification`) for the CLI and finetuneClassifier's texts, with the CLI's
 * token ids pinned and no tensor left behind; an attached adapter is refused in every mode; a
 * stratified validation split gives each class of ≥ 2 rows a row (else a DatasetError); adapter
 * configs are type-checked field by field; a rank-0 labels tensor is a ShapeError.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/backend/backend.js';
import { loadClassifier, tokenizeTexts } from '../../../src/cli/commands/finetune_run.js';
import { ConfigError, DatasetError, ShapeError, UsageError } from '../../../src/errors.js';
import { labelConfigFromHf } from '../../../src/model/classifier/labels.js';
import { classificationLoss } from '../../../src/model/classifier/loss.js';
import { HookedEncoder } from '../../../src/model/encoder/hooked_encoder.js';
import { HookedTransformer } from '../../../src/model/hooked_transformer.js';
import { checkPeftLoraConfig } from '../../../src/model/lora/peft_config.js';
import { finetuneClassifier, tokenizeForClassification } from '../../../src/train/finetune.js';
import { fixtureDir } from '../../helpers/fixtures.js';

beforeAll(async () => {
  await initBackend('cpu', { quiet: true });
});

/** Values of the head's linears (pre_classifier / classifier, or score). */
function headValues(m: HookedEncoder | HookedTransformer): number[][] {
  return m.adapters.slots().filter((s) => s.head).map((s) => Array.from(s.W.dataSync()));
}

describe('loadClassifier keeps a real head', () => {
  for (const [name, load] of [
    ['seqcls-tiny/distilbert', (d: string) => HookedEncoder.fromPretrained(d, { quiet: true })],
    ['seqcls-tiny/llama', (d: string) => HookedTransformer.fromPretrainedNoProcessing(d, { quiet: true })],
  ] as const) {
    it(`${name}: without class names the checkpoint's head (and id2label) is kept`, async () => {
      const dir = fixtureDir(name);
      const ref = await load(dir);
      const m = await loadClassifier(dir, undefined, 0);
      expect(m.labels?.numLabels).toBe(ref.labels?.numLabels);
      expect(m.labels?.id2label).toEqual(ref.labels?.id2label);
      expect(headValues(m)).toEqual(headValues(ref));
      m.dispose();
      ref.dispose();
    });
  }

  it('a class count other than the head width is a UsageError naming both, and leaks nothing', async () => {
    const dir = fixtureDir('seqcls-tiny/distilbert');
    const n0 = tf.memory().numTensors;
    const err = await loadClassifier(dir, ['a', 'b', 'c'], 0).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toMatch(/head has 2 labels .* but 3 classes were asked for \(a, b, c\)/);
    expect(tf.memory().numTensors).toBe(n0);
    const same = await loadClassifier(dir, ['no', 'yes'], 0);
    expect(same.labels?.numLabels).toBe(2);
    same.dispose();
  });

  it('a headless base gets a random head; the MLM head is freed (no tensor left after dispose)', async () => {
    const n0 = tf.memory().numTensors;
    const m = await loadClassifier('distilbert-mini', ['ham', 'spam'], 0);
    expect(m.labels?.id2label).toEqual({ 0: 'ham', 1: 'spam' });
    expect((m as HookedEncoder).params.mlmHead).toBeUndefined();
    m.dispose();
    expect(tf.memory().numTensors).toBe(n0);
  });
});

/** Texts covering truncation, an EOS inside a text (stripped as the pad id), and a row of only EOS ([0]). */
const TEXTS = ['WIN a FREE prize, call 0800 now', 'see you at the station, ok', '<|endoftext|>', 'ok <|endoftext|> ok', 'a much longer message that will certainly be truncated to the maximum length we ask for here'];

/** tokenizeTexts(model, TEXTS, 12) as `tfjs-lens finetune` computed it before the tokeniser moved to src/train. */
const PINNED = {
  'llama-mini': {
    ids: [[87, 1051, 257, 376, 1839, 69, 285, 377, 122, 101, 44, 1161], [333, 101, 375, 374, 262, 329, 418, 44, 264, 107, 2047, 2047], [0, 2047, 2047, 2047, 2047, 2047, 2047, 2047, 2047, 2047, 2047, 2047], [1354, 32, 264, 107, 2047, 2047, 2047, 2047, 2047, 2047, 2047, 2047], [97, 685, 985, 261, 1706, 629, 326, 555, 1969, 297, 311, 716]],
    mask: [[1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0], [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], [1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0], [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]],
  },
  'distilbert-mini': {
    ids: [[101, 2663, 1037, 2489, 3396, 1010, 2655, 5511, 8889, 2085, 102, 0], [101, 2156, 2017, 2012, 1996, 2276, 1010, 7929, 102, 0, 0, 0], [101, 1026, 1064, 2203, 15794, 10288, 2102, 1064, 1028, 102, 0, 0], [101, 7929, 1026, 1064, 2203, 15794, 10288, 2102, 1064, 1028, 7929, 102], [101, 1037, 2172, 2936, 4471, 2008, 2097, 5121, 2022, 25449, 2000, 102]],
    mask: [[1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0], [1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0], [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0], [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]],
  },
} as const;

describe('tokenizeForClassification: one tokeniser for the CLI and finetuneClassifier', () => {
  for (const name of ['llama-mini', 'distilbert-mini'] as const) {
    it(`${name}: the CLI's token ids are unchanged, and no tensor is left behind`, async () => {
      const m = await loadClassifier(name, ['ham', 'spam'], 0);
      const n0 = tf.memory().numTensors;
      expect(tokenizeForClassification(m, TEXTS, 12)).toEqual(PINNED[name]);
      expect(tokenizeTexts(m, TEXTS, 12)).toEqual(PINNED[name]);
      expect(tf.memory().numTensors).toBe(n0);
      m.dispose();
    });
  }

  it('finetuneClassifier on a decoder with texts leaks nothing (only the new adapter stays)', async () => {
    const m = await loadClassifier('llama-mini', ['ham', 'spam'], 0);
    const texts = Array.from({ length: 8 }, (_, i) => (i % 2 === 0 ? `WIN a FREE prize ${i} now` : `see you at ${i} ok`));
    const labels = texts.map((_, i) => i % 2);
    const n0 = tf.memory().numTensors;
    finetuneClassifier(m, { texts, labels }, { mode: 'head', epochs: 1, batchSize: 4, quiet: true });
    expect(tf.memory().numTensors - n0).toBe(m.adapters.adapter?.tensors().length);
    m.dispose();
  });
});

/** 6 rows per class alternating; class = which token sits at position 2. */
function toy(n: number): { tokenIds: number[][]; labels: number[] } {
  const tokenIds = Array.from({ length: n }, (_, i) => [101, 20 + i, i % 2 === 0 ? 30 : 40, 102]);
  return { tokenIds, labels: tokenIds.map((_, i) => i % 2) };
}

describe('finetuneClassifier guards', () => {
  const dir = fixtureDir('seqcls-tiny/distilbert');

  it("an attached (unmerged) adapter is a ConfigError in 'lora', 'head' and 'full', naming the methods", async () => {
    const m = await HookedEncoder.fromPretrained(dir, { quiet: true });
    finetuneClassifier(m, toy(8), { mode: 'head', epochs: 1, batchSize: 4, quiet: true });
    const attached = m.adapters.adapter;
    expect(attached).toBeDefined();
    for (const mode of ['lora', 'head', 'full'] as const) {
      const n0 = tf.memory().numTensors;
      expect(() => finetuneClassifier(m, toy(8), { mode, lora: { targetModules: ['q_lin'] }, epochs: 1, quiet: true })).toThrow(
        /an adapter is attached; .*model\.saveAdapter\(dir\).*model\.adapters\.remove\(\)/,
      );
      expect(tf.memory().numTensors).toBe(n0);
    }
    expect(m.adapters.adapter).toBe(attached);
    m.adapters.remove();
    expect(() => finetuneClassifier(m, toy(8), { mode: 'head', epochs: 1, batchSize: 4, quiet: true })).not.toThrow();
    m.dispose();
  });

  it('a small class still gives one validation row (early stopping reports finite figures)', async () => {
    const m = await HookedEncoder.fromPretrained(dir, { quiet: true });
    // 3 rows per class: round(3 × 0.1) = 0, so the split used to be empty and the metric NaN
    const r = finetuneClassifier(m, toy(6), { mode: 'head', epochs: 2, batchSize: 2, quiet: true, validationSplit: 0.1, earlyStopping: { patience: 5 } });
    expect(r.evaluations.length).toBeGreaterThan(0);
    for (const e of r.evaluations) expect(Number.isFinite(e.value)).toBe(true);
    m.dispose();
  });

  it('a split that leaves no validation row is a DatasetError naming the class counts', async () => {
    const m = await HookedEncoder.fromPretrained(dir, { quiet: true });
    const n0 = tf.memory().numTensors;
    expect(() => finetuneClassifier(m, toy(2), { mode: 'head', quiet: true, validationSplit: 0.2 })).toThrow(DatasetError);
    expect(() => finetuneClassifier(m, toy(2), { mode: 'head', quiet: true, validationSplit: 0.2 })).toThrow(/validationSplit 0\.2 .*class 0: 1, class 1: 1/);
    expect(tf.memory().numTensors).toBe(n0);
    m.dispose();
  });
});

describe('adapter_config.json field types', () => {
  const base = { peft_type: 'LORA', r: 4, lora_alpha: 8, target_modules: ['query'], modules_to_save: ['classifier'] };
  const bad = (patch: Record<string, unknown>): unknown => {
    try {
      checkPeftLoraConfig({ ...base, ...patch }, 'loadAdapter');
    } catch (e) {
      return e;
    }
    return undefined;
  };

  it('a target_modules regex that does not compile is a ConfigError naming the field', () => {
    const e = bad({ target_modules: '(' });
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as Error).message).toMatch(/field target_modules is not a valid regular expression \("\("\)/);
  });

  it('modules_to_save as a string is a ConfigError naming the field and the expected type', () => {
    const e = bad({ modules_to_save: 'classifier' });
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as Error).message).toMatch(/field modules_to_save must be null or string\[\], got string "classifier"/);
  });

  it('target_modules as a number, and other mistyped fields, are ConfigErrors', () => {
    expect((bad({ target_modules: 3 }) as Error).message).toMatch(/field target_modules must be null or string or string\[\], got number 3/);
    expect((bad({ target_modules: ['query', 1] }) as Error).message).toMatch(/field target_modules must be/);
    expect((bad({ lora_dropout: '0.1' }) as Error).message).toMatch(/field lora_dropout must be number, got string "0.1"/);
    expect((bad({ use_rslora: 'false' }) as Error).message).toMatch(/field use_rslora must be boolean/);
    expect((bad({ task_type: 7 }) as Error).message).toMatch(/field task_type must be string or null/);
    expect(bad({ target_modules: '.*\\.(query|value)' })).toBeUndefined();
    expect(bad({ target_modules: null })).toBeUndefined();
  });
});

describe('classificationLoss labels rank', () => {
  it('a rank-0 labels tensor is a ShapeError, not a TypeError', () => {
    const logits = tf.tensor2d([[0.1, 0.2]]);
    const y = tf.scalar(1, 'int32');
    expect(() => classificationLoss(logits, y, labelConfigFromHf({ num_labels: 2 }))).toThrow(ShapeError);
    expect(() => classificationLoss(logits, y, labelConfigFromHf({ num_labels: 2 }))).toThrow(/rank 1 .* or 2 .*got rank 0/);
    tf.dispose([logits, y]);
  });
});
