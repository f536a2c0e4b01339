/**
 * PEFT 0.11.1 LoRA adapters (tests/fixtures/lora-tiny/{llama,roberta}: a *ForSequenceClassification
 * base and an adapter on the attention query/value projections with the head in modules_to_save):
 * base logits, adapter logits (unmerged), merged logits and every merged weight within the
 * reference's tolerances; merge → unmerge restores the base; save → load round trip reproduces the
 * logits bit for bit with PEFT's tensor names and config keys; typed errors; no leaked tensors.
 * Each folder can be replaced by another of the same layout (LORA_LLAMA_FIXTURE_DIR, LORA_ROBERTA_FIXTURE_DIR).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/backend.js';
import { ConfigError, WeightLoadError } from '../../src/errors.js';
import { parseSafetensors, serializeSafetensors, type TensorToWrite } from '../../src/io/safetensors.js';
import { HookedEncoder } from '../../src/model/encoder/hooked_encoder.js';
import { HookedTransformer } from '../../src/model/hooked_transformer.js';
import type { AdapterHost } from '../../src/model/lora/adapter_host.js';
import { fixtureDir, type FixtureName } from '../helpers/fixtures.js';
import { expectMatchesRef, loadReference, namesUnder, refRows, type Reference } from '../helpers/reference.js';

/** What these tests use of either model class. */
interface Model {
  classify(input: number[][], opts?: Record<string, unknown>): tf.Tensor2D;
  loadAdapter(dir: string): Promise<unknown>;
  mergeAdapter(): void;
  unmergeAdapter(): void;
  saveAdapter(dir: string): Promise<string>;
  readonly adapters: AdapterHost<unknown>;
  dispose(): void;
}

interface Case {
  readonly name: FixtureName;
  readonly load: (dir: string) => Promise<Model>;
}

const CASES: readonly Case[] = [
  { name: 'lora-tiny/roberta', load: async (d) => (await HookedEncoder.fromPretrained(d, { quiet: true })) as unknown as Model },
  { name: 'lora-tiny/llama', load: async (d) => (await HookedTransformer.fromPretrainedNoProcessing(d, { quiet: true })) as unknown as Model },
];

const scratch = mkdtempSync(join(tmpdir(), 'lora-'));
const figures: string[] = [];

beforeAll(async () => {
  await initBackend('cpu', { quiet: true });
});

afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
  if (figures.length > 0) process.stderr.write(`LoRA parity (max abs diff):\n  ${figures.join('\n  ')}\n`);
});

/** Weight [in, out] of a module path, transposed to HF's [out, in]. */
function hfWeight(m: Model, path: string): tf.Tensor2D {
  const slot = m.adapters.slots().find((s) => s.path === path);
  if (slot === undefined) throw new Error(`no module ${path}`);
  return tf.transpose(slot.W);
}

function snapshot(m: Model): Map<string, Float32Array> {
  return new Map(m.adapters.slots().map((s) => [s.path, Float32Array.from(s.W.dataSync())]));
}

/** Rewrite an adapter folder: config edits and tensor renames / replacements. */
function variant(src: string, name: string, cfgEdit: (c: Record<string, unknown>) => void, tensorEdit: (m: Map<string, TensorToWrite>) => Map<string, TensorToWrite>): string {
  const dir = join(scratch, name);
  rmSync(dir, { recursive: true, force: true });
  const cfg = JSON.parse(readFileSync(join(src, 'adapter_config.json'), 'utf8')) as Record<string, unknown>;
  cfgEdit(cfg);
  const { tensors } = parseSafetensors(new Uint8Array(readFileSync(join(src, 'adapter_model.safetensors'))));
  const m = new Map<string, TensorToWrite>([...tensors].map(([k, t]) => [k, { dtype: 'F32', shape: t.shape, data: t.data }]));
  const out = tensorEdit(m);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'adapter_config.json'), JSON.stringify(cfg));
  writeFileSync(join(dir, 'adapter_model.safetensors'), serializeSafetensors(out));
  return dir;
}

describe.each(CASES)('$name', ({ name, load }) => {
  const dir = fixtureDir(name);
  const adapterDir = join(dir, 'adapter');
  let ref: Reference;
  let model: Model;
  let ids: number[][];
  let mask: number[][];

  beforeAll(async () => {
    ref = loadReference(dir);
    model = await load(join(dir, 'base'));
    ids = refRows(ref, 'inputs/input_ids');
    mask = refRows(ref, 'inputs/attention_mask');
  });

  afterAll(() => model.dispose());

  it('base logits, adapter logits (unmerged), merged weights and logits match PEFT', async () => {
    const base = model.classify(ids, { attentionMask: mask });
    figures.push(`${name} hf/base_logits ${expectMatchesRef(base, ref, 'hf/base_logits').toExponential(2)}`);
    base.dispose();
    const before = snapshot(model);
    await model.loadAdapter(adapterDir);
    const adapted = model.classify(ids, { attentionMask: mask });
    figures.push(`${name} peft/logits ${expectMatchesRef(adapted, ref, 'peft/logits').toExponential(2)}`);
    adapted.dispose();
    // unmerged: no base weight changed
    for (const [p, w] of snapshot(model)) expect(w, p).toEqual(before.get(p));
    model.mergeAdapter();
    const merged = model.classify(ids, { attentionMask: mask });
    figures.push(`${name} peft/merged_logits ${expectMatchesRef(merged, ref, 'peft/merged_logits').toExponential(2)}`);
    merged.dispose();
    const weightNames = namesUnder(ref, 'peft/merged/');
    expect(weightNames.length).toBeGreaterThan(0);
    let worst = 0;
    for (const w of weightNames) {
      const t = hfWeight(model, w.replace(/\.weight$/, ''));
      worst = Math.max(worst, expectMatchesRef(t, ref, `peft/merged/${w}`));
      t.dispose();
    }
    figures.push(`${name} peft/merged/* (${weightNames.length} weights) ${worst.toExponential(2)}`);
    model.unmergeAdapter();
    for (const [p, w] of snapshot(model)) {
      const b = before.get(p) as Float32Array;
      let d = 0;
      for (let i = 0; i < w.length; i++) d = Math.max(d, Math.abs((w[i] as number) - (b[i] as number)));
      expect(d, p).toBeLessThanOrEqual(1e-6);
    }
    const again = model.classify(ids, { attentionMask: mask });
    expectMatchesRef(again, ref, 'peft/logits');
    again.dispose();
  });

  it('a forward with an unmerged adapter leaks no tensors', () => {
    const before = tf.memory().numTensors;
    const out = model.classify(ids, { attentionMask: mask });
    expect(tf.memory().numTensors - before).toBe(1);
    out.dispose();
  });

  it('save → load reproduces the logits bit for bit, with PEFT tensor names and config keys', async () => {
    const out = join(scratch, `${name.replace('/', '_')}-saved`);
    await model.saveAdapter(out);
    const a = model.classify(ids, { attentionMask: mask });
    const other = await load(join(dir, 'base'));
    await other.loadAdapter(out);
    const b = other.classify(ids, { attentionMask: mask });
    expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
    tf.dispose([a, b]);
    other.dispose();
    const names = (d: string): string[] => [...parseSafetensors(new Uint8Array(readFileSync(join(d, 'adapter_model.safetensors')))).tensors.keys()].sort();
    expect(names(out)).toEqual(names(adapterDir));
    const keys = (d: string): string[] => Object.keys(JSON.parse(readFileSync(join(d, 'adapter_config.json'), 'utf8')) as object).sort();
    expect(keys(out)).toEqual(keys(adapterDir));
    const cfg = JSON.parse(readFileSync(join(out, 'adapter_config.json'), 'utf8')) as Record<string, unknown>;
    const orig = JSON.parse(readFileSync(join(adapterDir, 'adapter_config.json'), 'utf8')) as Record<string, unknown>;
    expect(cfg).toEqual(orig);
  });

  it('an adapter for a module the model lacks is a ConfigError naming the nearest module path', async () => {
    const m = await load(join(dir, 'base'));
    const target = (JSON.parse(readFileSync(join(adapterDir, 'adapter_config.json'), 'utf8')) as { target_modules: string[] }).target_modules[0] as string;
    const typo = `${target}x`;
    const bad = variant(adapterDir, `${name.replace('/', '_')}-typo`, (c) => {
      c['target_modules'] = (c['target_modules'] as string[]).map((t) => (t === target ? typo : t));
    }, (t) => new Map([...t].map(([k, v]) => [k.replace(`.${target}.`, `.${typo}.`), v])));
    await expect(m.loadAdapter(bad)).rejects.toThrow(ConfigError);
    await expect(m.loadAdapter(bad)).rejects.toThrow(new RegExp(`nearest module path: '[\\w.]*${target}'`));
    m.dispose();
  });

  it('a tensor of the wrong shape is a WeightLoadError naming it and both shapes', async () => {
    const m = await load(join(dir, 'base'));
    let victim = '';
    const bad = variant(adapterDir, `${name.replace('/', '_')}-shape`, () => undefined, (t) => {
      victim = [...t.keys()].find((k) => k.endsWith('lora_A.weight')) as string;
      const v = t.get(victim) as TensorToWrite;
      const [r, n] = v.shape as [number, number];
      t.set(victim, { dtype: 'F32', shape: [r, n - 1], data: new Float32Array(r * (n - 1)) });
      return t;
    });
    await expect(m.loadAdapter(bad)).rejects.toThrow(WeightLoadError);
    await expect(m.loadAdapter(bad)).rejects.toThrow(/has shape \[\d+, \d+\], expected \[\d+, \d+\]/);
    await expect(m.loadAdapter(bad)).rejects.toThrow(victim);
    m.dispose();
  });

  it('an unsupported peft_type is a ConfigError', async () => {
    const m = await load(join(dir, 'base'));
    const bad = variant(adapterDir, `${name.replace('/', '_')}-ia3`, (c) => {
      c['peft_type'] = 'IA3';
    }, (t) => t);
    await expect(m.loadAdapter(bad)).rejects.toThrow(ConfigError);
    await expect(m.loadAdapter(bad)).rejects.toThrow(/peft_type 'IA3'/);
    expect(() => m.mergeAdapter()).toThrow(ConfigError);
    m.dispose();
  });
});
