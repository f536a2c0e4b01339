/**
 * `*ForSequenceClassification` checkpoints (tests/fixtures/seqcls-tiny/{bert,distilbert,roberta,llama},
 * HF transformers 4.41.2): class logits and the `labels=` loss within the reference's tolerances,
 * the `classifier.*` hooks fire once each, save → load round trip, no leaked tensors, typed errors
 * for bad labels. Each folder can be replaced by another of the same layout (SEQCLS_*_FIXTURE_DIR).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/backend.js';
import { ConfigError, ShapeError } from '../../src/errors.js';
import type { ActivationCache } from '../../src/hooks/activation_cache.js';
import { FLAG_NAMES, isEnabled, type HookFlags, type HookSpec } from '../../src/hooks/hook_spec.js';
import type { LabelConfig } from '../../src/model/classifier/labels.js';
import { HookedEncoder } from '../../src/model/encoder/hooked_encoder.js';
import { HookedTransformer } from '../../src/model/hooked_transformer.js';
import { fixtureDir, type FixtureName } from '../helpers/fixtures.js';
import { expectMatchesRef, loadReference, refRows, type Reference } from '../helpers/reference.js';

/** What these tests use of either model class (their forward overloads differ). */
interface Model {
  readonly labels: LabelConfig | undefined;
  readonly cfg: { readonly dModel: number };
  readonly classifierHead: { readonly padTokenId: number | undefined } | undefined;
  forward(input: number[][], opts?: Record<string, unknown>): unknown;
  runWithHooks(input: number[][], opts: Record<string, unknown>): unknown;
  runWithCache(input: number[][], opts: Record<string, unknown>): [unknown, ActivationCache];
  classifierLoss(input: number[][], labels: number[], opts: Record<string, unknown>): tf.Scalar;
  hookSpecs(flags?: HookFlags): readonly HookSpec[];
  saveHf(dir: string): Promise<string>;
  dispose(): void;
}

const asModel = (m: HookedEncoder | HookedTransformer): Model => m as unknown as Model;

interface Case {
  readonly name: FixtureName;
  readonly load: (dir: string) => Promise<Model>;
}

const CASES: readonly Case[] = [
  { name: 'seqcls-tiny/bert', load: async (d) => asModel(await HookedEncoder.fromPretrained(d, { quiet: true })) },
  { name: 'seqcls-tiny/distilbert', load: async (d) => asModel(await HookedEncoder.fromPretrained(d, { quiet: true })) },
  { name: 'seqcls-tiny/roberta', load: async (d) => asModel(await HookedEncoder.fromPretrained(d, { quiet: true })) },
  { name: 'seqcls-tiny/llama', load: async (d) => asModel(await HookedTransformer.fromPretrainedNoProcessing(d, { quiet: true })) },
];

/** Max abs difference of two tensors' values. */
function maxDiff(a: tf.Tensor, b: tf.Tensor): number {
  const x = a.dataSync();
  const y = b.dataSync();
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs((x[i] as number) - (y[i] as number)));
  return m;
}

const figures: string[] = [];
const scratch = mkdtempSync(join(tmpdir(), 'seqcls-'));

beforeAll(async () => {
  await initBackend(undefined, { quiet: true });
});

afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
  process.stderr.write(`seqcls parity (max abs err):\n  ${figures.join('\n  ')}\n`);
});

describe.each(CASES)('$name', ({ name, load }) => {
  let ref: Reference;
  let model: Model;
  let ids: number[][];
  let attentionMask: number[][];
  let labels: number[];

  beforeAll(async () => {
    ref = loadReference(fixtureDir(name));
    model = await load(fixtureDir(name));
    ids = refRows(ref, 'inputs/input_ids');
    attentionMask = refRows(ref, 'inputs/attention_mask');
    labels = Array.from(ref.tensors.get('inputs/labels')?.data ?? []);
  });

  afterAll(() => model?.dispose());

  it('reads num_labels / id2label / label2id / problem_type from config.json', () => {
    const n = (ref.json.tensors['hf/logits']?.shape ?? [])[1];
    expect(model.labels?.numLabels).toBe(n);
    expect(Object.keys(model.labels?.id2label ?? {})).toHaveLength(n ?? -1);
    expect(model.labels?.label2id[model.labels.id2label[0] ?? '']).toBe(0);
  });

  it('forward(ids, { attentionMask }) gives HF logits [batch, num_labels]; the labels loss is HF loss', () => {
    const logits = model.forward(ids, { attentionMask }) as tf.Tensor;
    const errLogits = expectMatchesRef(logits, ref, 'hf/logits');
    const loss = model.classifierLoss(ids, labels, { attentionMask });
    const errLoss = expectMatchesRef(loss, ref, 'hf/loss');
    const both = model.forward(ids, { attentionMask, returnType: 'both', labels }) as { logits: tf.Tensor; loss: tf.Tensor };
    expect(maxDiff(both.logits, logits)).toBe(0);
    expect(maxDiff(both.loss, loss)).toBe(0);
    figures.push(`${name}: logits ${errLogits.toExponential(2)} (atol ${ref.json.tensors['hf/logits']?.atol}), loss ${errLoss.toExponential(2)} (atol ${ref.json.tensors['hf/loss']?.atol})`);
    tf.dispose([logits, loss, both.logits, both.loss]);
  });

  it('every classifier hook fires exactly once, with its table shape', () => {
    const specs = model.hookSpecs().filter((s) => s.name.startsWith('classifier.'));
    expect(specs.map((s) => s.name)).toContain('classifier.hook_logits');
    const counts = new Map<string, number[][]>();
    const all = model.hookSpecs().filter((s) => isEnabled(s, {}));
    const out = model.runWithHooks(ids, {
      attentionMask,
      fwdHooks: all.map((s) => [s.name, (x: tf.Tensor) => void counts.set(s.name, [...(counts.get(s.name) ?? []), x.shape])] as const),
    }) as tf.Tensor;
    for (const s of all) expect(counts.get(s.name)?.length ?? 0, s.name).toBe(1);
    const n = model.labels?.numLabels ?? 0;
    expect(counts.get('classifier.hook_logits')).toEqual([[ids.length, n]]);
    expect(counts.get('classifier.hook_in')).toEqual([[ids.length, out.shape[1] === n ? model.cfg.dModel : -1]]);
    const [cached, cache] = model.runWithCache(ids, { attentionMask, namesFilter: (h: string) => h.startsWith('classifier.') });
    expect(maxDiff(cache.get('classifier.hook_logits'), out)).toBe(0);
    cache.dispose();
    tf.dispose([out, cached as tf.Tensor]);
  });

  it('the hook contract holds in every optional-hook flag combination (each enabled hook fires as its table says)', () => {
    for (let bits = 0; bits < 1 << FLAG_NAMES.length; bits++) {
      const flags: HookFlags = Object.fromEntries(FLAG_NAMES.map((f, i) => [f, (bits & (1 << i)) !== 0]));
      const specs = model.hookSpecs(flags).filter((s) => isEnabled(s, flags));
      const counts = new Map<string, number>();
      const out = model.runWithHooks(ids, { ...flags, attentionMask, fwdHooks: specs.map((s) => [s.name, () => void counts.set(s.name, (counts.get(s.name) ?? 0) + 1)] as const) }) as tf.Tensor;
      out.dispose();
      for (const s of specs) expect(counts.get(s.name) ?? 0, `${s.name} under ${JSON.stringify(flags)}`).toBe(s.fires);
    }
  });

  it('does not leak: forward adds exactly the returned tensor', () => {
    const before = tf.memory().numTensors;
    const logits = model.forward(ids, { attentionMask }) as tf.Tensor;
    expect(tf.memory().numTensors).toBe(before + 1);
    logits.dispose();
    const loss = model.classifierLoss(ids, labels, { attentionMask });
    expect(tf.memory().numTensors).toBe(before + 1);
    loss.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('bad labels are typed errors naming the fix, before any tensor is made', () => {
    const before = tf.memory().numTensors;
    expect(() => model.classifierLoss(ids, labels.slice(1), { attentionMask })).toThrow(ShapeError);
    expect(() => model.classifierLoss(ids, labels.slice(1), { attentionMask })).toThrow(/one label per row/);
    expect(() => model.classifierLoss(ids, labels.map(() => 7), { attentionMask })).toThrow(ConfigError);
    expect(() => model.classifierLoss(ids, labels.map(() => 7), { attentionMask })).toThrow(/not a class id in \[0, \d+\]/);
    expect(() => model.classifierLoss(ids, labels.map(() => 0.5), { attentionMask })).toThrow(ConfigError);
    expect(() => model.forward(ids, { attentionMask, returnType: 'loss' })).toThrow(/needs labels/);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('saveHf → fromPretrained gives identical logits', async () => {
    const dir = join(scratch, name.replace('/', '_'));
    await model.saveHf(dir);
    const again = await load(dir);
    try {
      const a = model.forward(ids, { attentionMask }) as tf.Tensor;
      const b = again.forward(ids, { attentionMask }) as tf.Tensor;
      expect(maxDiff(a, b)).toBe(0);
      expect(again.labels).toEqual(model.labels);
      tf.dispose([a, b]);
    } finally {
      again.dispose();
    }
  });
});

describe('decoder head details', () => {
  it('fromPretrained (fold_ln into the score head) gives the same logits as no processing', async () => {
    const ref = loadReference(fixtureDir('seqcls-tiny/llama'));
    const model = await HookedTransformer.fromPretrained(fixtureDir('seqcls-tiny/llama'), { quiet: true });
    try {
      const logits = model.forward(refRows(ref, 'inputs/input_ids'), { attentionMask: refRows(ref, 'inputs/attention_mask') }) as tf.Tensor;
      expectMatchesRef(logits, ref, 'hf/logits');
      logits.dispose();
    } finally {
      model.dispose();
    }
  });

  it('reads the last real token (first pad − 1); a left-padded row reads its last position', async () => {
    const model = await HookedTransformer.fromPretrainedNoProcessing(fixtureDir('seqcls-tiny/llama'), { quiet: true });
    try {
      const pad = model.classifierHead?.padTokenId ?? 0;
      const right = model.forward([[5, 6, 7, pad, pad]], { attentionMask: [[1, 1, 1, 0, 0]] }) as tf.Tensor;
      const alone = model.forward([[5, 6, 7]]) as tf.Tensor;
      expect(maxDiff(right, alone)).toBeLessThan(1e-5);
      const left = model.forward([[pad, pad, 5, 6, 7]], { attentionMask: [[0, 0, 1, 1, 1]] }) as tf.Tensor;
      expect(maxDiff(left, alone)).toBeLessThan(1e-4); // TL offsets positions for left padding
      tf.dispose([right, alone, left]);
    } finally {
      model.dispose();
    }
  });
});
