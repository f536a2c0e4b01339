/**
 * Loading the Llama, Qwen2 and Pythia (GPT-NeoX) layouts in the variants real repositories use,
 * checked on numbers: sharded F16 checkpoints, base-model key layouts (no `model.` / `gpt_neox.`
 * prefix), tied embeddings without an `lm_head`, rotary buffers to ignore, download through the hub
 * and the HF cache, and typed errors listing what a checkpoint lacks.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/backend.js';
import { WeightLoadError } from '../../src/errors.js';
import { HookedTransformer } from '../../src/model/hooked_transformer.js';
import { startTestHub } from '../unit/io/hub_server.js';
import { expectAllClose, fixtureTensors, renamed, writeCheckpoint, writeSharded, type TensorSet } from '../helpers/gpt2_checkpoint.js';
import { expectMatchesRef, loadReference, refRows } from '../helpers/reference.js';
import { fixtureDir, type FixtureName } from '../helpers/fixtures.js';

let root = '';
let n = 0;
const newDir = (name: string): string => join(root, `${n++}-${name}`);

beforeAll(async () => {
  await initBackend(undefined, { quiet: true });
  root = await mkdtemp(join(tmpdir(), 'family-loading-'));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function logitsOf(dir: string, tokens: number[][], processed = false): Promise<tf.Tensor3D> {
  const model = processed
    ? await HookedTransformer.fromPretrained(dir, { quiet: true })
    : await HookedTransformer.fromPretrainedNoProcessing(dir, { quiet: true });
  try {
    return model.logits(tokens);
  } finally {
    model.dispose();
  }
}

const CASES: readonly { fixture: FixtureName; prefix: string; lmHead: string; embed: string; buffer: string }[] = [
  { fixture: 'llama-tiny', prefix: 'model.', lmHead: 'lm_head.weight', embed: 'model.embed_tokens.weight', buffer: 'model.layers.0.self_attn.rotary_emb.inv_freq' },
  { fixture: 'qwen2-tiny', prefix: 'model.', lmHead: 'lm_head.weight', embed: 'model.embed_tokens.weight', buffer: 'model.layers.0.self_attn.rotary_emb.inv_freq' },
  { fixture: 'pythia-tiny', prefix: 'gpt_neox.', lmHead: 'embed_out.weight', embed: 'gpt_neox.embed_in.weight', buffer: 'gpt_neox.layers.0.attention.rotary_emb.inv_freq' },
];

describe.each(CASES)('$fixture layouts', ({ fixture, prefix, lmHead, embed, buffer }) => {
  const dir = fixtureDir(fixture);
  const ref = loadReference(dir);
  const tokens = refRows(ref, 'inputs/input_ids');
  let base: TensorSet;
  let baseLogits: Float32Array;

  beforeAll(async () => {
    base = await fixtureTensors(dir);
    const l = await logitsOf(dir, tokens);
    expectMatchesRef(l, ref, 'hf/logits');
    baseLogits = Float32Array.from(l.dataSync());
    l.dispose();
  });

  it('sharded F16 checkpoint (index + 2 shards) loads; logits within F16 rounding of the F32 ones', async () => {
    const d = await writeCheckpoint(newDir('f16'), dir, undefined);
    const f16: TensorSet = new Map([...base].map(([k, t]) => [k, { ...t, dtype: 'F16' as const }]));
    await writeSharded(d, f16, 2);
    const l = await logitsOf(d, tokens);
    const maxAbs = expectAllClose(l.dataSync(), baseLogits, 5e-2, 'F16 vs F32');
    expect(maxAbs).toBeGreaterThan(0); // the rounding really happened
    l.dispose();
  });

  it('base-model key layout (no prefix) plus a rotary inv_freq buffer gives the same logits', async () => {
    const variant = renamed(base, (k) => (k.startsWith(prefix) ? k.slice(prefix.length) : k));
    variant.set(buffer.slice(prefix.length), { dtype: 'F32', shape: [2], data: new Float32Array([1, 0.01]) });
    const d = await writeCheckpoint(newDir('base-layout'), dir, variant);
    const l = await logitsOf(d, tokens);
    expectAllClose(l.dataSync(), baseLogits, 0, 'base layout vs fixture');
    l.dispose();
  });

  it('tied embeddings: without the untied head, W_U is W_Eᵀ (same as writing the head as W_E)', async () => {
    const noHead = renamed(base, (k) => (k === lmHead ? undefined : k));
    const cfg = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
    const tiedCfg = JSON.stringify({ ...cfg, tie_word_embeddings: true });
    const tied = await writeCheckpoint(newDir('tied'), dir, noHead, tiedCfg);
    const explicit = new Map(noHead);
    const e = base.get(embed);
    expect(e, `fixture lacks ${embed}`).toBeDefined();
    if (e === undefined) return;
    explicit.set(lmHead, e);
    const withHead = await writeCheckpoint(newDir('explicit-head'), dir, explicit, tiedCfg);
    const a = await logitsOf(tied, tokens);
    const b = await logitsOf(withHead, tokens);
    expectAllClose(a.dataSync(), b.dataSync(), 0, 'tied vs explicit head');
    // …and the untied fixture head really was used: the logits differ from the tied ones.
    expect(Math.max(...Array.from(a.dataSync(), (v, i) => Math.abs(v - (baseLogits[i] ?? 0))))).toBeGreaterThan(1e-2);
    a.dispose();
    b.dispose();
  });

  it('a checkpoint missing a layer tensor fails with a WeightLoadError naming it', async () => {
    const victim = [...base.keys()].find((k) => k.includes('layers.1.'));
    expect(victim).toBeDefined();
    if (victim === undefined) return;
    const d = await writeCheckpoint(newDir('missing'), dir, renamed(base, (k) => (k === victim ? undefined : k)));
    const err = await HookedTransformer.fromPretrainedNoProcessing(d, { quiet: true }).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(WeightLoadError);
    expect(String(err)).toContain(victim.startsWith(prefix) ? victim.slice(prefix.length) : victim);
  });
});

describe('hub download of a Llama-architecture repo', () => {
  it('downloads into the cache, loads processed logits equal to tl_processed_out, then loads offline', async () => {
    const dir = fixtureDir('llama-tiny');
    const ref = loadReference(dir);
    const tokens = refRows(ref, 'inputs/input_ids');
    const files: Record<string, Buffer> = {};
    for (const f of ['config.json', 'generation_config.json', 'model.safetensors']) files[f] = await readFile(join(dir, f));
    const hub = await startTestHub({ 'org/llama-tiny': files });
    try {
      const cacheDir = newDir('hub-cache');
      const localFetch: typeof fetch = (input, init) => {
        const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
        if (!url.startsWith('http://127.0.0.1:')) throw new TypeError(`test refused a non-local fetch: ${url}`);
        return globalThis.fetch(input, init);
      };
      const load = async (offline: boolean): Promise<void> => {
        const model = await HookedTransformer.fromPretrained('org/llama-tiny', { endpoint: hub.url, cacheDir, quiet: true, fetch: localFetch, offline });
        const l = model.logits(tokens);
        expectMatchesRef(l, ref, 'tl_processed_out/logits');
        l.dispose();
        model.dispose();
      };
      await load(false);
      expect(hub.requests.length).toBeGreaterThan(0);
      hub.requests.length = 0;
      await load(true);
      expect(hub.requests).toEqual([]);
    } finally {
      await hub.close();
    }
  });
});
