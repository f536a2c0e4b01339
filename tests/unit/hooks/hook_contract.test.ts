/**
 * The hook contract: every hook point in a model's table fires exactly as often as the table says
 * (once; three times for a pre-LN ln1 with split q/k/v inputs, as TransformerLens) in every flag
 * combination, and a component that fires a name outside the table is stopped with HookNameError.
 * Also the run rules shared by every model class: unknown options, stopAtLayer with 'none'.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/backend/backend.js';
import { ConfigError, HookNameError } from '../../../src/errors.js';
import type { DecoderHookName } from '../../../src/hooks/decoder_hooks.js';
import { FLAG_NAMES, isEnabled, type HookFlags, type HookSpec } from '../../../src/hooks/hook_spec.js';
import type { HookDispatch } from '../../../src/hooks/run_context.js';
import { HookedEncoder } from '../../../src/model/encoder/hooked_encoder.js';
import { HookedTransformer } from '../../../src/model/hooked_transformer.js';
import { randomDecoderParams } from '../../../src/model/random_init.js';
import type { ModelConfig } from '../../../src/model/config.js';
import { fixtureDir } from '../../helpers/fixtures.js';

/** All 16 combinations of the four optional-hook flags. */
const FLAG_COMBOS: HookFlags[] = Array.from({ length: 1 << FLAG_NAMES.length }, (_, bits) =>
  Object.fromEntries(FLAG_NAMES.map((f, i) => [f, (bits & (1 << i)) !== 0])),
);

interface Runnable {
  hookSpecs(flags?: HookFlags): readonly HookSpec[];
  withHooks<T>(hooks: ReadonlyArray<readonly [string | ((n: string) => boolean), (x: tf.Tensor) => void]>, body: () => T, flags?: HookFlags): T;
}

/** Fire counts of every hook (a counting hook on every name enabled under `flags`) in one run. */
function fireCounts(model: Runnable, flags: HookFlags, run: () => tf.Tensor | undefined): Map<string, number> {
  const counts = new Map<string, number>();
  const result = model.withHooks(
    model.hookSpecs(flags).filter((s) => isEnabled(s, flags)).map((s) => [s.name, () => {
      counts.set(s.name, (counts.get(s.name) ?? 0) + 1);
    }] as const),
    run,
    flags,
  );
  result?.dispose();
  return counts;
}

function expectContract(model: Runnable, flags: HookFlags, counts: Map<string, number>, expectFires: (s: HookSpec) => boolean): void {
  // (A name outside the table cannot fire: the dispatcher throws HookNameError, tested below.)
  for (const s of model.hookSpecs(flags)) {
    const want = isEnabled(s, flags) && expectFires(s) ? s.fires : 0;
    expect(counts.get(s.name) ?? 0, `${s.name} under ${JSON.stringify(flags)}`).toBe(want);
  }
}

let gpt2: HookedTransformer;
let distil: HookedEncoder;
let bert: HookedEncoder;
let attnOnly: HookedTransformer;
let llama: HookedTransformer;
let pythia: HookedTransformer;

beforeAll(async () => {
  await initBackend(undefined, { quiet: true });
  gpt2 = await HookedTransformer.fromPretrainedNoProcessing(fixtureDir('gpt2-tiny'), { quiet: true });
  distil = await HookedEncoder.fromPretrained(fixtureDir('distilbert-tiny'), { quiet: true });
  bert = await HookedEncoder.fromPretrained(fixtureDir('bert-tiny'), { quiet: true });
  const cfg: ModelConfig = { ...gpt2.cfg, nLayers: 2, attnOnly: true, normalizationType: 'LN' };
  attnOnly = new HookedTransformer(cfg, randomDecoderParams(cfg, { seed: 3 }));
  llama = await HookedTransformer.fromPretrainedNoProcessing(fixtureDir('llama-tiny'), { quiet: true }); // GQA, rotary, gated MLP
  pythia = await HookedTransformer.fromPretrained(fixtureDir('pythia-tiny'), { quiet: true }); // parallel blocks, partial rotary
});

afterAll(() => {
  for (const m of [gpt2, distil, bert, attnOnly, llama, pythia]) m?.dispose();
});

const tokens = [[3, 17, 5, 99, 42, 7], [8, 9, 10, 11, 12, 13]];
const mask = [[1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 0, 0]];

describe('every registered hook fires exactly as the table says, in every flag combination', () => {
  it.each(FLAG_COMBOS.map((f) => [JSON.stringify(f), f] as const))('decoder (GPT-2, attention-only, Llama, Pythia) %s', (_label, flags) => {
    for (const model of [gpt2, attnOnly, llama, pythia]) {
      const before = tf.memory().numTensors;
      expectContract(model, flags, fireCounts(model, flags, () => model.forward(tokens, { ...flags, attentionMask: mask })), () => true);
      // A loss run fires the same hooks; stopAtLayer 1 fires only the embed hooks and block 0.
      expectContract(model, flags, fireCounts(model, flags, () => model.forward(tokens, { ...flags, returnType: 'loss' })), () => true);
      expectContract(model, flags, fireCounts(model, flags, () => model.forward(tokens, { ...flags, stopAtLayer: 1 })), (s) => s.stage === 'embed' || s.layer === 0);
      expect(tf.memory().numTensors).toBe(before);
    }
  });

  it.each(FLAG_COMBOS.map((f) => [JSON.stringify(f), f] as const))('encoder (DistilBERT and BERT) %s', (_label, flags) => {
    for (const model of [distil, bert]) {
      const before = tf.memory().numTensors;
      expectContract(model, flags, fireCounts(model, flags, () => model.forward(tokens, { ...flags, attentionMask: mask })), () => true);
      // 'embeddings': the MLM head (and its hooks) does not run.
      expectContract(model, flags, fireCounts(model, flags, () => model.forward(tokens, { ...flags, returnType: 'embeddings' })), (s) => s.stage !== 'head');
      expect(tf.memory().numTensors).toBe(before);
    }
  });
});

/** A decoder whose attention component fires a misspelt hook name. */
class MisspeltHookModel extends HookedTransformer {
  protected override execute(...args: Parameters<HookedTransformer['execute']>): ReturnType<HookedTransformer['execute']> {
    const [, , flags, , fn] = args;
    const hook: HookDispatch<DecoderHookName> = this.hookDispatch(flags, fn);
    const x = tf.zeros([1, 2, 4, 8]);
    try {
      // @ts-expect-error 'hook_qq' is not in the decoder's hook table: the compiler refuses it too.
      return hook('blocks.0.attn.hook_qq', x);
    } finally {
      x.dispose();
    }
  }
}

describe('a component firing a name outside the table', () => {
  it('throws HookNameError naming it and the nearest valid names', () => {
    const cfg = gpt2.cfg;
    const model = new MisspeltHookModel(cfg, randomDecoderParams(cfg, { seed: 1 }));
    try {
      expect(() => model.forward(tokens)).toThrow(HookNameError);
      expect(() => model.forward(tokens)).toThrow(/unknown hook name 'blocks\.0\.attn\.hook_qq'.*blocks\.0\.attn\.hook_q/);
    } finally {
      model.dispose();
    }
  });

  it('a component firing a flag-gated name with the flag off is refused too', () => {
    const hook = (gpt2 as unknown as { hookDispatch(f: HookFlags, fn: string): HookDispatch<string> }).hookDispatch({}, 'test');
    const x = tf.zeros([1, 2, 4, 8]);
    expect(() => hook('blocks.0.attn.hook_result', x)).toThrow(/disabled/);
    expect(hook('blocks.0.attn.hook_z', x)).toBe(x);
    x.dispose();
  });
});

describe('shared run rules', () => {
  it('unknown option keys are a ConfigError naming the nearest valid key (decoder and encoder, every entry point)', () => {
    const js = (o: object): never => o as never; // as a plain-JS caller would pass it
    expect(() => gpt2.forward(tokens, js({ stopAtLayers: 1 }))).toThrow(ConfigError);
    expect(() => gpt2.forward(tokens, js({ stopAtLayers: 1 }))).toThrow(/unknown option 'stopAtLayers' \(did you mean 'stopAtLayer'\?\)/);
    expect(() => distil.forward(tokens, js({ startAtLayer: 1 }))).toThrow(/unknown option 'startAtLayer'/); // decoders only (as TL's HookedEncoder)
    expect(() => gpt2.runWithCache(tokens, js({ nameFilter: 'hook_embed' }))).toThrow(/did you mean 'namesFilter'/);
    expect(() => gpt2.runWithHooks(tokens, js({ fwdHook: [] }))).toThrow(/did you mean 'fwdHooks'/);
    expect(() => distil.forward(tokens, js({ returnTypes: 'none' }))).toThrow(/did you mean 'returnType'/);
    expect(() => distil.runWithCache(tokens, js({ attention_mask: mask }))).toThrow(/did you mean 'attentionMask'/);
    expect(gpt2.hasHooks()).toBe(false);
  });

  it('loaders check their option keys too, before loading anything', async () => {
    const js = (o: object): never => o as never;
    await expect(HookedTransformer.fromPretrained(fixtureDir('gpt2-tiny'), js({ foldLN: false }))).rejects.toThrow(/unknown option 'foldLN' \(did you mean 'foldLn'\?\)/);
    await expect(HookedEncoder.fromPretrained(fixtureDir('bert-tiny'), js({ offlne: true }))).rejects.toThrow(/did you mean 'offline'/);
  });

  it("stopAtLayer: the residual replaces logits on both model kinds; 'none' returns nothing on both", () => {
    const before = tf.memory().numTensors;
    const d = gpt2.forward(tokens, { stopAtLayer: 1 });
    expect(d.shape).toEqual([2, 6, gpt2.cfg.dModel]);
    const e = distil.forward(tokens, { stopAtLayer: 1 });
    expect(e.shape).toEqual([2, 6, distil.cfg.dModel]);
    const eAll = distil.forward(tokens, { stopAtLayer: distil.cfg.nLayers });
    expect(eAll.shape).toEqual([2, 6, distil.cfg.dModel]); // explicit n_layers: residual, no MLM head (as the decoder)
    expect(gpt2.forward(tokens, { stopAtLayer: 1, returnType: 'none' })).toBeUndefined();
    expect(distil.forward(tokens, { stopAtLayer: 1, returnType: 'none' })).toBeUndefined();
    const [none, cache] = gpt2.runWithCache(tokens, { stopAtLayer: 1, returnType: 'none' });
    expect(none).toBeUndefined();
    expect(cache.has('blocks.0.hook_resid_post')).toBe(true);
    expect(cache.has('blocks.1.hook_resid_pre')).toBe(false);
    expect(cache.has('ln_final.hook_scale')).toBe(false);
    cache.dispose();
    tf.dispose([d, e, eAll]);
    expect(tf.memory().numTensors).toBe(before);
    expect(() => gpt2.forward(tokens, { stopAtLayer: 1, returnType: 'loss' })).toThrow(/stopAtLayer returns the residual stream/);
    expect(() => gpt2.forward(tokens, { stopAtLayer: 1.5 })).toThrow(/integer in \[-\d+, \d+\]/);
    expect(() => distil.forward(tokens, { stopAtLayer: 99 })).toThrow(ConfigError);
  });

  it('outputs are typed by returnType: no casts needed', () => {
    const [logits, cache] = gpt2.runWithCache(tokens);
    const vocab: number = logits.shape[2]; // Tensor3D
    expect(vocab).toBe(gpt2.cfg.dVocab);
    const loss = gpt2.forward(tokens, { returnType: 'loss' });
    expect(loss.rank).toBe(0);
    const perTok = gpt2.forward(tokens, { returnType: 'loss', lossPerToken: true });
    expect(perTok.shape).toEqual([2, 5]);
    const both = gpt2.forward(tokens, { returnType: 'both' });
    expect(both.logits.shape).toEqual(logits.shape);
    tf.dispose([logits, loss, perTok, both.logits, both.loss]);
    cache.dispose();
  });
});
