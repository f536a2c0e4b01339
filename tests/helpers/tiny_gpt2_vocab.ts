/** A one-layer random-weight model with GPT-2's real tokenizer and n_ctx 32, for tokenisation tests. */
import { initBackend } from '../../src/backend/backend.js';
import { validateConfig } from '../../src/model/config.js';
import { HookedTransformer } from '../../src/model/hooked_transformer.js';
import { randomDecoderParams } from '../../src/model/random_init.js';
import { loadTokenizer, shippedTokenizerDir } from '../../src/tokenizers/load.js';

/** Start the backend and build the model (d_model 16, 2 heads, d_vocab 50257, n_ctx 32). */
export async function tinyGpt2VocabModel(): Promise<HookedTransformer> {
  await initBackend(undefined, { quiet: true });
  const cfg = validateConfig({
    modelType: 'gpt2', nLayers: 1, dModel: 16, nHeads: 2, dHead: 8, dMlp: 32, dVocab: 50257, nCtx: 32,
    actFn: 'gelu_new', eps: 1e-5, normalizationType: 'LN', attnOnly: false, bosTokenId: 50256, eosTokenId: 50256,
  });
  return new HookedTransformer(cfg, randomDecoderParams(cfg), await loadTokenizer(shippedTokenizerDir('gpt2')));
}
