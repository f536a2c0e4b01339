/**
 * Example 1: load a GPT-2-family model, run it with a full activation cache, read hooks by
 * TransformerLens name, and check the residual-stream identity resid_post = resid_mid + mlp_out.
 * Run: npx tsx examples/01_run_with_cache.ts [model path or hub id]
 */
import { HookedTransformer, tf } from '../src/index.js';

const path = process.argv[2] ?? 'tests/fixtures/gpt2-tiny';
const model = await HookedTransformer.fromPretrained(path);
const tokens = model.tokenizer ? model.toTokens('The Eiffel Tower is in') : tf.tensor2d([[1, 2, 3, 4, 5, 6]], undefined, 'int32');
const [logits, cache] = model.runWithCache(tokens);
console.log('pattern', cache.get('blocks.0.attn.hook_pattern').shape); // [1, n_heads, pos, pos]
console.log('resid_post', cache.get('resid_post', -1).shape);          // TL short name, last layer
const err = tf.tidy(() =>
  tf.max(tf.abs(tf.sub(cache.get('blocks.0.hook_resid_post'), tf.add(cache.get('blocks.0.hook_resid_mid'), cache.get('blocks.0.hook_mlp_out'))))).dataSync()[0],
);
console.log('max |resid_post - (resid_mid + mlp_out)| =', err);
(logits as tf.Tensor).dispose();
cache.dispose();
tokens.dispose();
model.dispose();
