/**
 * `tfjs-lens demo`: load a model, runWithCache, and summarise the cache (hook shapes, the identity
 * resid_post = resid_mid + mlp_out, top next-token predictions).
 */
import * as tf from '@tensorflow/tfjs-core';
import { UsageError } from '../../errors.js';
import { HookedTransformer } from '../../model/hooked_transformer.js';
import { tokenListOption } from '../cli_args.js';
import { defaultDemoModel } from './paths.js';

/** Options of the demo command. */
interface DemoOptions {
  readonly json: boolean;
  readonly model?: string | undefined;
  readonly text?: string | undefined;
  readonly tokens?: string | undefined;
  readonly namesFilter?: string | undefined;
  readonly noProcessing?: boolean;
}

function namesFilter(re: string | undefined): ((n: string) => boolean) | undefined {
  if (re === undefined) return undefined;
  let rx: RegExp;
  try {
    rx = new RegExp(re);
  } catch (err) {
    throw new UsageError(`demo: --names-filter is not a valid regular expression: ${err instanceof Error ? err.message : String(err)}`);
  }
  return (n: string) => rx.test(n);
}

function maxAbsDiff(a: tf.Tensor, b: tf.Tensor, c: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, tf.add(b, c)))).dataSync()[0] as number);
}

/** Run the demo; returns the exit code. */
export async function runDemo(o: DemoOptions): Promise<number> {
  if (o.text !== undefined && o.tokens !== undefined) throw new UsageError('demo: pass --text or --tokens, not both');
  tokenListOption('demo', o.tokens, 'tokens'); // the syntax, before the model loads; the id range after
  const filter = namesFilter(o.namesFilter);
  const path = o.model ?? defaultDemoModel();
  const load = o.noProcessing === true ? HookedTransformer.fromPretrainedNoProcessing : HookedTransformer.fromPretrained;
  const model = await load.call(HookedTransformer, path, { quiet: o.json });
  try {
    const ids = tokenListOption('demo', o.tokens ?? (o.text === undefined && !model.tokenizer ? '1,2,3,4,5,6,7,8,1,2,3,4' : undefined), 'tokens', { dVocab: model.cfg.dVocab });
    const input = ids !== undefined ? [ids] : (o.text ?? 'The Eiffel Tower is in');
    const t0 = performance.now();
    const [logits, cache] = model.runWithCache(input, filter === undefined ? {} : { namesFilter: filter });
    const seconds = (performance.now() - t0) / 1000;
    const [, pos, vocab] = logits.shape;
    const last = tf.tidy(() => tf.topk(tf.reshape(tf.slice(logits, [0, pos - 1, 0], [1, 1, vocab]), [vocab]), 5));
    const topIds = Array.from(last.indices.dataSync());
    const topLogits = Array.from(last.values.dataSync());
    last.indices.dispose();
    last.values.dispose();
    const l0 = model.cfg.attnOnly ? undefined : 'blocks.0.';
    const identity =
      l0 !== undefined && cache.has(`${l0}hook_resid_post`) && cache.has(`${l0}hook_resid_mid`) && cache.has(`${l0}hook_mlp_out`)
        ? maxAbsDiff(cache.get(`${l0}hook_resid_post`), cache.get(`${l0}hook_resid_mid`), cache.get(`${l0}hook_mlp_out`))
        : null;
    const hooks = cache.entries().map(([name, t]) => ({ name, shape: t.shape }));
    const summary = {
      command: 'demo',
      model: path,
      backend: tf.getBackend(),
      n_layers: model.cfg.nLayers,
      d_model: model.cfg.dModel,
      tokens: typeof input === 'string' ? model.toStrTokens(input) : input[0],
      cached_hooks: hooks.length,
      cache_mb: +(cache.numBytes / 1e6).toFixed(3),
      seconds: +seconds.toFixed(4),
      resid_identity_max_abs_err: identity,
      top_next_tokens: topIds.map((id, i) => ({ id, text: model.tokenizer?.decodeToken(id) ?? null, logit: topLogits[i] })),
    };
    logits.dispose();
    cache.dispose();
    if (o.json) {
      process.stdout.write(`${JSON.stringify({ ...summary, hooks })}\n`);
    } else {
      console.log(`model ${path} (${summary.n_layers} layers, d_model ${summary.d_model}) on ${summary.backend}`);
      console.log(`tokens: ${JSON.stringify(summary.tokens)}`);
      console.table(hooks.map((h) => ({ hook: h.name, shape: `[${h.shape.join(', ')}]` })));
      console.log(`cached ${summary.cached_hooks} hooks (${summary.cache_mb} MB) in ${summary.seconds} s`);
      if (identity !== null) console.log(`blocks.0: max |resid_post - (resid_mid + mlp_out)| = ${identity.toExponential(2)}`);
      console.log('top next tokens:', summary.top_next_tokens.map((t) => `${t.text ?? t.id} (${t.logit?.toFixed(3)})`).join(', '));
    }
    return 0;
  } finally {
    model.dispose();
  }
}
