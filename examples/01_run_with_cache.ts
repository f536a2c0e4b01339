/**
 * Example 1: load a decoder (default: the shipped `llama-mini`, a 4-layer Llama-architecture LM trained
 * on news and movie-review text), run it on a real sentence with a full activation cache, read hooks by
 * TransformerLens name, show the model's next-token prediction, and check the residual-stream identity
 * resid_post = resid_mid + mlp_out.
 * Run: npx tsx examples/01_run_with_cache.ts [--model llama-mini] [--prompt "…"] [--json]
 * `--model gpt2` needs the Hugging Face hub (network) or a copy in the HF cache.
 */
import { HookedTransformer, tf } from '../src/index.js';
import { intOption, parseCliArgs, runCliMain } from '../src/cli/cli_args.js';

const NAME = 'examples/01_run_with_cache';
const OPTIONS = {
  model: { type: 'string', default: 'llama-mini' },
  prompt: { type: 'string', default: 'I loved this movie. It was one of the best films I have ever' },
  'top-k': { type: 'string' },
  json: { type: 'boolean', default: false },
} as const;

async function main(): Promise<number> {
  const { values } = parseCliArgs(NAME, process.argv.slice(2), OPTIONS);
  const topK = intOption(NAME, values['top-k'], 'top-k', { dflt: 5, min: 1, max: 50 });
  // With --json, stdout carries exactly one JSON object; the report goes to stderr.
  const log = (line: string): void => void (values.json ? process.stderr : process.stdout).write(`${line}\n`);

  const model = await HookedTransformer.fromPretrained(values.model, { quiet: values.json });
  try {
    const tokens = model.tokenizer ? model.toTokens(values.prompt) : tf.tensor2d([[1, 2, 3, 4, 5, 6]], undefined, 'int32'); // [1, pos]
    const strTokens = model.tokenizer ? model.toStrTokens(values.prompt) : Array.from(tokens.dataSync(), String);
    const [logits, cache] = model.runWithCache(tokens);
    const pattern = cache.get('blocks.0.attn.hook_pattern').shape; // [1, n_heads, pos, pos]
    const residPost = cache.get('resid_post', -1).shape; // TL short name, last layer: [1, pos, d_model]
    // The residual identity holds on sequential blocks (GPT-2, Llama); Pythia's parallel block has no resid_mid.
    const identityError = cache.has('blocks.0.hook_resid_mid')
      ? tf.tidy(() => {
          const post = cache.get('blocks.0.hook_resid_post');
          const sum = tf.add(cache.get('blocks.0.hook_resid_mid'), cache.get('blocks.0.hook_mlp_out'));
          return tf.max(tf.abs(tf.sub(post, sum))).dataSync()[0] as number;
        })
      : null;
    const pos = tokens.shape[1] as number;
    const last = tf.tidy(() => tf.softmax(tf.slice(logits, [0, pos - 1, 0], [1, 1, -1]).reshape([-1]))); // [d_vocab]
    const { values: probs, indices } = tf.topk(last, topK);
    const [p, ids] = [Array.from(probs.dataSync()), Array.from(indices.dataSync())];
    const next = ids.map((id, i) => ({ id, token: model.tokenizer ? model.tokenizer.decodeToken(id) : String(id), prob: p[i] as number }));
    tf.dispose([last, probs, indices, logits, tokens]);
    cache.dispose();

    log(`${values.model}: ${model.cfg.nLayers} layers, d_model ${model.cfg.dModel}, ${model.cfg.nHeads} heads`);
    log(`prompt tokens: ${strTokens.map((t) => JSON.stringify(t)).join(' ')}`);
    log(`blocks.0.attn.hook_pattern ${JSON.stringify(pattern)}   resid_post (last layer) ${JSON.stringify(residPost)}`);
    log(`next token: ${next.map((n) => `${JSON.stringify(n.token)} ${n.prob.toFixed(3)}`).join(', ')}`);
    log(`max |resid_post - (resid_mid + mlp_out)| in block 0 = ${identityError ?? 'n/a (parallel block)'}`);
    if (values.json) {
      process.stdout.write(`${JSON.stringify({ example: '01_run_with_cache', model: values.model, prompt: values.prompt, strTokens, shapes: { pattern, residPost }, next, identityError })}\n`);
    }
  } finally {
    model.dispose();
  }
  return 0;
}

await runCliMain(NAME, main);
