/**
 * Port of TransformerLens v2.18.0 tests/integration/test_d_vocab.py (4 test functions, all ported)
 * with `HookedTransformer.fromConfig` (TL `HookedTransformer(cfg, tokenizer)`: random weights).
 * Adaptation: TL's `tokenizer_name="gpt2"` config field has no counterpart (a config here holds
 * architecture only), so those two tests pass the same GPT-2 tokenizer (the shipped HF files) as
 * `{ tokenizer }`; the expected d_vocab is recomputed as TL does, max(vocab id) + 1.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/backend.js';
import { ConfigError } from '../../src/errors.js';
import type { ModelConfigInput } from '../../src/model/config.js';
import { HookedTransformer } from '../../src/model/hooked_transformer.js';
import { loadTokenizer, shippedTokenizerDir } from '../../src/tokenizers/load.js';
import type { Tokenizer } from '../../src/tokenizers/tokenizer.js';
import { expectNoLeak } from '../helpers/memory.js';

const BASE: ModelConfigInput = {
  modelType: 'gpt2', nLayers: 1, dMlp: 10, dModel: 10, dHead: 5, nHeads: 2, nCtx: 20, actFn: 'relu',
  eps: 1e-5, normalizationType: 'LN', attnOnly: false, bosTokenId: 50256, eosTokenId: 50256,
};

let gpt2: Tokenizer;
let gpt2MaxIdPlusOne: number;

beforeAll(async () => {
  await initBackend(undefined, { quiet: true });
  gpt2 = await loadTokenizer(shippedTokenizerDir('gpt2'));
  // TL: max(tokenizer.vocab.values()) + 1, from the vocabulary itself.
  let max = -1;
  for (let id = 0; id < 60000; id++) if (gpt2.idToToken(id) !== undefined) max = id;
  gpt2MaxIdPlusOne = max + 1;
});

describe('test_d_vocab.py', () => {
  it('test_d_vocab_from_tokenizer', () => {
    const model = HookedTransformer.fromConfig(BASE, { tokenizer: gpt2 });
    expect(model.cfg.dVocab).toBe(gpt2MaxIdPlusOne);
    expect(gpt2MaxIdPlusOne).toBe(50257);
    expect(model.cfg.dVocabOut ?? model.cfg.dVocab).toBe(50257);
    expect(model.W_E.shape).toEqual([50257, 10]);
    expect(model.W_U.shape).toEqual([10, 50257]);
    model.dispose();
  });

  it('test_d_vocab_from_tokenizer_name', () => {
    const model = HookedTransformer.fromConfig(BASE, { tokenizer: gpt2 });
    expect(model.cfg.dVocab).toBe(50257);
    expect(model.cfg.dVocabOut ?? model.cfg.dVocab).toBe(50257);
    model.dispose();
  });

  it('test_d_vocab_out_set', () => {
    const model = HookedTransformer.fromConfig({ ...BASE, dVocab: 100, dVocabOut: 90 });
    expect(model.cfg.dVocab).toBe(100);
    expect(model.cfg.dVocabOut).toBe(90);
    expect(model.W_E.shape).toEqual([100, 10]);
    expect(model.W_U.shape).toEqual([10, 90]);
    const logits = expectNoLeak(() => model.forward([[1, 99, 3]]), () => 1);
    expect(logits.shape).toEqual([1, 3, 90]); // the unembedding is d_vocab_out wide
    const loss = model.forward([[1, 80, 3]], { returnType: 'loss' });
    expect(Number.isFinite(loss.dataSync()[0])).toBe(true);
    expect(() => model.forward([[1, 95, 3]], { returnType: 'loss' })).toThrow(/d_vocab_out=90/); // a target the unembedding cannot score
    tf.dispose([logits, loss]);
    model.dispose();
  });

  it('test_d_vocab_out_set_d_vocab_infer', () => {
    const model = HookedTransformer.fromConfig({ ...BASE, dVocabOut: 90 }, { tokenizer: gpt2 });
    expect(model.cfg.dVocab).toBe(50257);
    expect(model.cfg.dVocabOut).toBe(90);
    model.dispose();
  });
});

describe('fromConfig errors', () => {
  it('no dVocab and no tokenizer is a ConfigError naming the fix', () => {
    expect(() => HookedTransformer.fromConfig(BASE)).toThrow(ConfigError);
    expect(() => HookedTransformer.fromConfig(BASE)).toThrow(/pass \{ tokenizer \}/);
    expect(() => HookedTransformer.fromConfig({ ...BASE, dVocab: 10, dVocabOut: 0 })).toThrow(/dVocabOut/);
  });
});
