/**
 * Example 8: TransformerLens's Main_Demo notebook (v2.18.0, demos/Main_Demo.ipynb), section by
 * section, on the shipped models instead of pretrained GPT-2:
 * - `--model llama-mini` (default) plays gpt2-small: a 4-layer Llama-architecture LM trained on news
 *   and movie reviews, with its own 2,048-token BPE tokenizer (so " Mary" is two tokens: the IOI
 *   prompts use " John" and " Tim", single tokens here).
 * - `--induction-model induction-2l` is the model for the induction sections: a 2-layer GPT-2 attention-only
 *   model trained on repeated random tokens from ids [1000, 3000) (its safetensors `token_range`),
 *   so the random tokens come from that range, with BOS first as in its training data.
 * Each section prints what its cells print; `--json` prints one JSON object with the same numbers.
 * Plotly pages (the notebook's imshow / line / scatter / CircuitsVis plots) go to `--out`.
 *
 * The 61 code cells of the notebook:
 *   1–3   not run: Colab install, autoreload, Plotly renderer, CircuitsVis smoke test (no TS meaning).
 *   4–5   ported with our API: imports (torch/einops/plotly/transformer_lens → tfjs-lens `tf`,
 *         HookedTransformer, HookedRoot, HookPoint, src/viz; `utils.get_act_name` → `actName`).
 *   6     not run: torch.set_grad_enabled(False) (tfjs computes gradients only inside tf.grad).
 *   7     ported with our API: imshow / line / scatter → writeHeatmap / writeLinePlot / writeScatterPlot.
 *   8     not run: utils.get_device() (the tfjs backend is chosen by initBackend; printed in cell 11).
 *   9     ported on llama-mini (gpt2-small weights are not shipped): HookedTransformer.fromPretrained.
 *   10    ported with our API: model(text, return_type="loss") → model.loss(text) (text cut to n_ctx 128).
 *   11    ported with our API: run_with_cache(remove_batch_dim=True) → runWithCache(tokens, { removeBatchDim: true });
 *         `tokens.device` → the tfjs backend name.
 *   12    ported with our API: cache["pattern", 0, "attn"] → cache.get('pattern', 0, 'attn').
 *   13    ported with our API: cv.attention.attention_patterns → writeAttentionPatterns (attention_L0.html).
 *   14    ported with our API: run_with_cache(remove_batch_dim, stop_at_layer, names_filter) → runWithCache({ removeBatchDim,
 *         stopAtLayer, namesFilter, returnType: 'none' }); torch.equal → max |difference| = 0.
 *   15    ported on llama-mini: head ablation through hook_v with runWithHooks({ fwdHooks, returnType: 'loss' });
 *         llama-mini has grouped-query attention, so hook_v has 2 key/value heads: zeroing value head h
 *         silences query heads 2h and 2h + 1 (TL's hook_v has the same n_key_value_heads axis).
 *   16–18 ported on llama-mini: IOI-like patching of resid_pre at every (layer, position), with " John" / " Tim"
 *         ("John and Tim were there. Then Tim called" vs "… Then John called"). llama-mini barely does IOI
 *         (logit difference 0.17 clean vs −0.05 corrupted, where GPT-2 has ~±3.5), so only layer 0 reads
 *         sharply: the changed position restores the clean run exactly (1.0) and every other position is 0.
 *   19    ported on induction-2l: loss by position on repeated random tokens; loss_fn(per_token=True) →
 *         model.loss(tokens, { lossPerToken: true }); einops.repeat → plain arrays.
 *   20    ported on induction-2l: induction score per head from a hook on every `hook_pattern` (name filter).
 *   21    ported on induction-2l: attention pattern of the best induction head from inside a hook.
 *   22–23 ported on llama-mini instead of distilgpt2: the same induction-score hook on a second model.
 *   24–25 ported with our API: named_parameters() → model.stateDict() (TL names; tensors freed after printing).
 *   26    ported with our API: every hook name and shape in block 0 and outside the blocks, from a filter hook.
 *   27–29 ported on induction-2l: model.unembed.b_U → model.b_U (llama-mini has no biases, so its b_U is 0);
 *         induction-2l's b_U comes from folding its final LayerNorm bias; " John" (1757) is inside the
 *         training range and " Mary" (5335) is not. Its data is uniform over the range, so b_U shows no unigram
 *         statistics: it separates trained ids (the bottom 20 are all in the range) from untrained ones.
 *   30–37 ported on llama-mini: toStrTokens / toTokens / toSingleToken / toString / getTokenPosition;
 *         to_string(256) → toString([256]) (a bare number is not accepted).
 *   38–40 ported on llama-mini: per-call prependBos; Claire (not a single token here) → " Tim" / " John".
 *   41–44 ported with our API: FactoredMatrix(A, B) with seeded tf.randomNormal; `@` → matmul; .norm(), .S,
 *         .eigenvalues ({real, imag} float32 tensors: tfjs has no complex64), .AB; torch.linalg.eig / svd of
 *         the dense 5×5 matrix → the same methods on FactoredMatrix(AB, I) (tfjs has no dense eig).
 *   45–52 ported on llama-mini: model.OV, W_E @ OV @ W_U → OV.rmatmul(W_E).matmul(W_U); copying score
 *         Σλ.real / Σ|λ| per head; imshow / scatter → writeHeatmap / writeScatterPlot. The same cells also run
 *         on induction-2l (not in the notebook), whose layer-1 induction heads copy.
 *   53    ported: a repeat of cell 34 (printed again, as in the notebook).
 *   54    ported on llama-mini: model.generate(prompt, { maxNewTokens, temperature: 0.7, prependBos: true, seed }).
 *   55–57 ported with our API: a user subclass of HookedRoot (TwoLayerModel) whose forward fires its hook
 *         points through hookDispatch; run_with_cache / run_with_hooks written on withHooks (see the
 *         section for what HookedRoot does not provide).
 *   58–61 not run: they load training checkpoints (get_checkpoint_labels, checkpoint_index of solu-2l);
 *         no checkpointed models are shipped or loadable here.
 *
 * Run: npx tsx examples/08_main_demo.ts [--model llama-mini] [--induction-model induction-2l]
 *   [--batch 10] [--seq-len 50] [--max-new-tokens 50] [--seed 0] [--out results/main_demo] [--json]
 */
import { join } from 'node:path';
import { ActivationCache, actName, backendInfo, FactoredMatrix, HookedRoot, HookedTransformer, initBackend, tf, type ComplexTensors, type FwdHooks, type HookContext, type HookSpec } from '../src/index.js';
import { checkpointTokenRange } from '../src/circuits/index.js';
import { intOption, parseCliArgs, runCliMain } from '../src/cli/cli_args.js';
import { resolveAlias } from '../src/model/aliases.js';
import { seededRng } from '../src/utils/rng.js';
import { writeAttentionPatterns, writeHeatmap, writeLinePlot, writePatchingHeatmap, writeScatterPlot } from '../src/viz/index.js';

const NAME = 'examples/08_main_demo';
const OPTIONS = {
  model: { type: 'string', default: 'llama-mini' },
  'induction-model': { type: 'string', default: 'induction-2l' },
  batch: { type: 'string' },
  'seq-len': { type: 'string' },
  'max-new-tokens': { type: 'string' },
  seed: { type: 'string' },
  out: { type: 'string', default: 'results/main_demo' },
  json: { type: 'boolean', default: false },
} as const;

/** What every section gets. */
interface Ctx {
  readonly model: HookedTransformer;
  readonly ind: HookedTransformer;
  /** The ids induction-model was trained on. */
  readonly range: readonly [number, number];
  readonly log: (line: string) => void;
  readonly page: (file: string) => string;
  readonly files: string[];
  readonly batch: number;
  readonly seqLen: number;
  readonly maxNewTokens: number;
  readonly seed: number;
}

type Json = Record<string, unknown>;

const fmt = (x: number, d = 3): string => x.toFixed(d);
const shapeOf = (t: tf.Tensor): string => `[${t.shape.join(', ')}]`;
/** One scalar out of a tensor, which is then freed. */
function item(t: tf.Tensor): number {
  const v = t.dataSync()[0] as number;
  t.dispose();
  return v;
}
/** logits[0, -1, a] − logits[0, -1, b] (TL `logits_to_logit_diff`). */
function lastLogitDiff(logits: tf.Tensor, a: number, b: number): number {
  return tf.tidy(() => {
    const pos = logits.shape[1] as number;
    const last = tf.slice(logits, [0, pos - 1, 0], [1, 1, -1]).dataSync(); // [1, 1, d_vocab] → flat
    return (last[a] as number) - (last[b] as number);
  });
}
/** Rows of random ids in [lo, hi), seeded. */
function randomRows(batch: number, len: number, [lo, hi]: readonly [number, number], seed: number): number[][] {
  const rand = seededRng(seed);
  return Array.from({ length: batch }, () => Array.from({ length: len }, () => lo + Math.floor(rand() * (hi - lo))));
}
const argmax = (xs: readonly number[]): number => xs.reduce((best, x, i) => (x > (xs[best] as number) ? i : best), 0);

// Main_Demo cells 9–10: load the model and take the loss on a paragraph.
function loadingAndLoss(c: Ctx, modelName: string): Json {
  const text = [
    '## Loading Models',
    '',
    'HookedTransformer comes loaded with >40 open source GPT-style models. You can load any of them in with `HookedTransformer.from_pretrained(MODEL_NAME)`. See my explainer for documentation of all supported models, and this table for hyper-parameters and the name used to load them. Each model is loaded into the consistent HookedTransformer architecture, designed to be clean, consistent and interpretability-friendly. ',
    '',
    "For this demo notebook we'll look at GPT-2 Small, an 80M parameter model. To try the model the model out, let's find the loss on this paragraph!",
  ].join('\n');
  const { nLayers, dModel, nHeads, nCtx } = c.model.cfg;
  c.log(`\n== cells 9–10: ${modelName}: ${nLayers} layers, d_model ${dModel}, ${nHeads} heads, n_ctx ${nCtx}`);
  const nTokens = (c.model.tokenizer?.encode(text).length ?? 0) + 1; // + BOS, before cutting to n_ctx
  const loss = item(c.model.loss(text, { truncate: true }));
  c.log(`Model loss: ${fmt(loss, 4)} (the paragraph is ${nTokens} tokens with BOS${nTokens > nCtx ? `; cut to n_ctx ${nCtx}` : ''})`);
  return { model: modelName, nLayers, dModel, nHeads, nCtx, textTokens: nTokens, loss };
}

const GPT2_TEXT = 'Natural language processing tasks, such as question answering, machine translation, reading comprehension, and summarization, are typically approached with supervised learning on taskspecific datasets.';

// Main_Demo cells 11–14: cache every activation, look at layer-0 attention, then cache only that hook.
function cachingActivations(c: Ctx): Json {
  c.log('\n== cells 11–14: caching all activations');
  const tokens = c.model.toTokens(GPT2_TEXT); // [1, pos]
  const backend = backendInfo()?.name ?? tf.getBackend();
  c.log(`backend: ${backend} (TL prints gpt2_tokens.device)`);
  const [logits, cache] = c.model.runWithCache(tokens, { removeBatchDim: true });
  logits.dispose();
  try {
    c.log(`type: ${cache.constructor.name}`);
    const pattern = cache.get('pattern', 0, 'attn'); // [n_heads, pos, pos]
    c.log(`attention_pattern.shape: ${shapeOf(pattern)}`);
    const strTokens = c.model.toStrTokens(GPT2_TEXT);
    c.log('Layer 0 Head Attention Patterns: written to attention_L0.html');
    c.files.push(writeAttentionPatterns(c.page('attention_L0.html'), pattern.arraySync() as number[][][], {
      tokens: strTokens, layer: 0, title: 'Layer 0 head attention patterns (cell 13) on the first sentence of the GPT-2 abstract',
    }));
    // Cell 14: only the layer-0 pattern, stopping the forward pass after block 0.
    const attnLayer = 0;
    const name = actName('pattern', attnLayer); // 'blocks.0.attn.hook_pattern'
    const [, attnCache] = c.model.runWithCache(tokens, { removeBatchDim: true, stopAtLayer: attnLayer + 1, namesFilter: [name], returnType: 'none' });
    const maxAbsDiff = tf.tidy(() => tf.max(tf.abs(tf.sub(attnCache.get(name), pattern))).dataSync()[0] as number);
    const keys = attnCache.keys();
    attnCache.dispose();
    c.log(`stop_at_layer=${attnLayer + 1}, names_filter=['${name}']: cached ${JSON.stringify(keys)}; torch.equal with the full cache: ${maxAbsDiff === 0}`);
    return { backend, tokens: tokens.shape, cacheKeys: cache.keys().length, patternShape: pattern.shape, strTokens, stopAtLayerKeys: keys, stopAtLayerEqual: maxAbsDiff === 0 };
  } finally {
    cache.dispose();
    tokens.dispose();
  }
}

// Main_Demo cell 15: ablate one value head of layer 0 with a hook and compare the losses.
function headAblation(c: Ctx): Json {
  const layer = 0;
  const head = 0; // a key/value head: llama-mini's hook_v is [batch, pos, n_key_value_heads, d_head]
  c.log(`\n== cell 15: zero value head ${head} of layer ${layer} (hook_v)`);
  const tokens = c.model.toTokens(GPT2_TEXT);
  let valueShape: number[] = [];
  const headAblationHook = (value: tf.Tensor): tf.Tensor => {
    valueShape = value.shape;
    c.log(`Shape of the value tensor: ${shapeOf(value)}`);
    const keep = Array.from({ length: value.shape[2] as number }, (_, h) => (h === head ? 0 : 1));
    return tf.mul(value, tf.tensor4d(keep, [1, 1, keep.length, 1])); // value[:, :, head, :] = 0
  };
  const originalLoss = item(c.model.loss(tokens));
  const ablatedLoss = item(c.model.runWithHooks(tokens, { returnType: 'loss', fwdHooks: [[`blocks.${layer}.attn.hook_v`, headAblationHook]] }));
  tokens.dispose();
  c.log(`Original Loss: ${fmt(originalLoss)}`);
  c.log(`Ablated Loss: ${fmt(ablatedLoss)}`);
  return { layer, valueHead: head, valueShape, originalLoss, ablatedLoss };
}

// Main_Demo cells 16–18: activation patching of the residual stream on an IOI-like prompt pair.
function ioiPatching(c: Ctx): Json {
  const cleanPrompt = 'John and Tim were there. Then Tim called';
  const corruptedPrompt = 'John and Tim were there. Then John called';
  const [correct, incorrect] = [' John', ' Tim'];
  c.log(`\n== cells 16–18: residual-stream patching, clean "${cleanPrompt}" / corrupted "${corruptedPrompt}"`);
  const cleanTokens = c.model.toTokens(cleanPrompt);
  const corruptedTokens = c.model.toTokens(corruptedPrompt);
  const [a, b] = [c.model.toSingleToken(correct), c.model.toSingleToken(incorrect)];
  const [cleanLogits, cleanCache] = c.model.runWithCache(cleanTokens);
  try {
    const cleanLogitDiff = lastLogitDiff(cleanLogits, a, b);
    cleanLogits.dispose();
    c.log(`Clean logit difference: ${fmt(cleanLogitDiff)}`);
    const corruptedLogitDiff = tf.tidy(() => lastLogitDiff(c.model.logits(corruptedTokens), a, b));
    c.log(`Corrupted logit difference: ${fmt(corruptedLogitDiff)}`);
    const numPositions = cleanTokens.shape[1];
    const result: number[][] = [];
    for (let layer = 0; layer < c.model.cfg.nLayers; layer++) {
      const row: number[] = [];
      for (let position = 0; position < numPositions; position++) {
        // resid_pre[:, position, :] = clean_cache[hook.name][:, position, :]
        const residualStreamPatchingHook = (residPre: tf.Tensor, hook: HookContext): tf.Tensor => {
          const clean = cleanCache.get(hook.name);
          const isPos = tf.oneHot(tf.tensor1d([position], 'int32'), numPositions).reshape([1, numPositions, 1]); // [1, pos, 1]
          return tf.add(tf.mul(residPre, tf.sub(1, isPos)), tf.mul(clean, isPos));
        };
        const patched = tf.tidy(() => lastLogitDiff(c.model.runWithHooks(corruptedTokens, { fwdHooks: [[`blocks.${layer}.hook_resid_pre`, residualStreamPatchingHook]] }), a, b));
        row.push((patched - corruptedLogitDiff) / (cleanLogitDiff - corruptedLogitDiff));
      }
      result.push(row);
    }
    const strTokens = c.model.toStrTokens(cleanTokens);
    const tokenLabels = strTokens.map((t, i) => `${t}_${i}`);
    const diffPositions = Array.from(cleanTokens.dataSync()).flatMap((id, i) => (id === corruptedTokens.dataSync()[i] ? [] : [i]));
    c.log(`normalised patched logit difference, layer 0 at the changed position ${diffPositions.join(', ')}: ${fmt(result[0]?.[diffPositions[0] ?? 0] ?? NaN)}; last position, last layer: ${fmt(result[result.length - 1]?.[numPositions - 1] ?? NaN)}`);
    c.files.push(writePatchingHeatmap(c.page('ioi_resid_pre_patching.html'), result, {
      kind: 'layerPos', tokens: tokenLabels, title: 'Normalized logit difference after patching the residual stream on the IOI-like task',
      description: `${cleanPrompt} → answer ${correct} vs ${incorrect}; corrupted: ${corruptedPrompt}. 0 = corrupted run, 1 = clean run.`,
      zLabel: 'normalised logit difference (0 = corrupted, 1 = clean)', range: { signed: 1 },
    }));
    return { cleanPrompt, corruptedPrompt, correct, incorrect, cleanLogitDiff, corruptedLogitDiff, strTokens, changedPositions: diffPositions, normalized: result };
  } finally {
    cleanCache.dispose();
    cleanTokens.dispose();
    corruptedTokens.dispose();
  }
}

/** BOS r₁ … r_L r₁ … r_L per row (einops.repeat "batch seq_len -> batch (2 seq_len)", with BOS first). */
function repeatedRows(model: HookedTransformer, batch: number, seqLen: number, range: readonly [number, number], seed: number): number[][] {
  const bos = model.cfg.bosTokenId === undefined ? [] : [model.cfg.bosTokenId];
  return randomRows(batch, seqLen, range, seed).map((r) => [...bos, ...r, ...r]);
}

/**
 * Induction score per head (cells 20 and 23): the mean attention on the stripe seq_len − 1 back,
 * read by a hook on every `hook_pattern` (`pattern.diagonal(offset=1 - seq_len)`, averaged).
 */
function inductionScoresByHook(model: HookedTransformer, rows: number[][], seqLen: number): number[][] {
  const { nLayers, nHeads } = model.cfg;
  const store = Array.from({ length: nLayers }, () => new Array<number>(nHeads).fill(0));
  const inductionScoreHook = (pattern: tf.Tensor, hook: HookContext): void => {
    const [, , q, k] = pattern.shape as [number, number, number, number];
    const scores = tf.tidy(() => {
      // The stripe: entries (dest, src) with dest − src = seq_len − 1 ([q, k] mask).
      const stripe = tf.equal(tf.sub(tf.range(0, q, 1, 'int32').reshape([q, 1]), tf.range(0, k, 1, 'int32').reshape([1, k])), seqLen - 1);
      const count = q - (seqLen - 1);
      return tf.div(tf.sum(tf.mul(pattern, tf.cast(stripe, 'float32')), [0, 2, 3]), count * (pattern.shape[0] as number)).dataSync(); // [n_heads]
    });
    store[hook.layer ?? 0] = Array.from(scores);
  };
  const patternHookNamesFilter = (name: string): boolean => name.endsWith('pattern');
  model.runWithHooks(rows, { returnType: 'none', fwdHooks: [[patternHookNamesFilter, inductionScoreHook]] });
  return store;
}

// Main_Demo cells 19–21: induction heads on repeated random tokens (on induction-2l).
function inductionHeads(c: Ctx, indName: string): Json {
  const { batch, seqLen, range } = c;
  c.log(`\n== cells 19–21: ${indName} on ${batch} rows of BOS + ${seqLen} random tokens from [${range[0]}, ${range[1]}) repeated twice`);
  const rows = repeatedRows(c.ind, batch, seqLen, range, c.seed);
  // Cell 19: loss by position (position p predicts token p + 1).
  const lossByPosition = tf.tidy(() => Array.from(tf.mean(c.ind.loss(rows, { lossPerToken: true }), 0).dataSync())); // [batch, pos-1] → [pos-1]
  const half = (from: number, to: number): number => lossByPosition.slice(from, to).reduce((s, x) => s + x, 0) / (to - from);
  const firstHalfLoss = half(1, seqLen); // predicting r₂ … r_L
  const secondHalfLoss = half(seqLen + 1, 2 * seqLen); // predicting the repeat r₂ … r_L
  c.log(`loss by position: mean ${fmt(firstHalfLoss)} nats on the first half, ${fmt(secondHalfLoss)} on the repeat (uniform over the range: ln ${range[1] - range[0]} = ${fmt(Math.log(range[1] - range[0]))})`);
  c.files.push(writeLinePlot(c.page('loss_by_position.html'), [{ name: 'loss', y: lossByPosition }], {
    title: `Loss by position on random repeated tokens (${indName})`, xLabel: 'Position (predicting the token after it)', yLabel: 'Loss (nats)',
  }));
  // Cell 20: induction score per head from a hook.
  const scores = inductionScoresByHook(c.ind, rows, seqLen);
  const flat = scores.flat();
  const best = argmax(flat);
  const [bestLayer, bestHead] = [Math.floor(best / c.ind.cfg.nHeads), best % c.ind.cfg.nHeads];
  c.log(`induction score by head: ${scores.map((r, l) => `L${l} [${r.map((x) => fmt(x)).join(', ')}]`).join('  ')}; best L${bestLayer}H${bestHead}`);
  const heads = Array.from({ length: c.ind.cfg.nHeads }, (_, h) => `H${h}`);
  const layers = Array.from({ length: c.ind.cfg.nLayers }, (_, l) => `L${l}`);
  c.files.push(writeHeatmap(c.page('induction_score_by_head.html'), scores, {
    title: `Induction score by head (${indName})`, xLabel: 'Head', yLabel: 'Layer', xLabels: heads, yLabels: layers, zLabel: 'induction score (0–1)', range: 'unit',
  }));
  // Cell 21: the pattern of that head on one shorter repeated sequence, drawn from inside a hook.
  const single = repeatedRows(c.ind, 1, Math.min(20, seqLen), range, c.seed + 50);
  const strTokens = c.ind.toStrTokens(single);
  let stripe = NaN;
  const visualizePatternHook = (pattern: tf.Tensor): void => {
    const head = (pattern.arraySync() as number[][][][])[0]?.[bestHead] ?? [];
    const len = Math.min(20, seqLen);
    // Second half (BOS at 0): position q holds r_(q−L) and attends to the token after its first copy, q − (L − 1).
    const onStripe = head.flatMap((row, q) => (q > len ? [row[q - len + 1] as number] : []));
    stripe = onStripe.reduce((s, x) => s + x, 0) / onStripe.length;
    c.files.push(writeAttentionPatterns(c.page('induction_head_pattern.html'), [head], {
      tokens: strTokens, layer: bestLayer, title: `Attention of induction head L${bestLayer}H${bestHead} (${indName}) on a repeated random sequence`,
    }));
  };
  c.ind.runWithHooks(single, { returnType: 'none', fwdHooks: [[`blocks.${bestLayer}.attn.hook_pattern`, visualizePatternHook]] });
  c.log(`L${bestLayer}H${bestHead} on one repeated sequence: mean attention on the induction stripe (second half) ${fmt(stripe)}`);
  return { model: indName, tokenRange: range, batch, seqLen, lossByPosition, firstHalfLoss, secondHalfLoss, scores, bestHead: [bestLayer, bestHead], singleSequenceStripe: stripe };
}

// Main_Demo cells 22–23: the same analysis on a second model (distilgpt2 there; llama-mini here).
function secondModelInduction(c: Ctx, modelName: string): Json {
  const range: [number, number] = [256, c.model.cfg.dVocab - 1]; // merged BPE tokens, no raw bytes, no <|endoftext|>
  c.log(`\n== cells 22–23: induction score by head on ${modelName} (random tokens from [${range[0]}, ${range[1]}))`);
  const rows = repeatedRows(c.model, c.batch, c.seqLen, range, c.seed);
  const scores = inductionScoresByHook(c.model, rows, c.seqLen);
  c.log(scores.map((r, l) => `L${l} [${r.map((x) => fmt(x)).join(', ')}]`).join('  '));
  c.files.push(writeHeatmap(c.page('induction_score_by_head_second_model.html'), scores, {
    title: `Induction score by head in ${modelName}`, xLabel: 'Head', yLabel: 'Layer', zLabel: 'induction score (0–1)', range: 'unit',
    xLabels: Array.from({ length: c.model.cfg.nHeads }, (_, h) => `H${h}`), yLabels: Array.from({ length: c.model.cfg.nLayers }, (_, l) => `L${l}`),
  }));
  return { model: modelName, tokenRange: range, scores };
}

// Main_Demo cells 24–26: parameter names and shapes, then every hook name and shape.
function namesAndShapes(c: Ctx): Json {
  c.log('\n== cells 24–25: parameters (model.stateDict(), TL names)');
  const params: { name: string; shape: number[] }[] = [];
  for (const [name, t] of c.model.stateDict()) {
    params.push({ name, shape: t.shape });
    t.dispose();
  }
  for (const p of params.filter((x) => x.name.startsWith('blocks.0.'))) c.log(`${p.name} [${p.shape.join(', ')}]`);
  for (const p of params.filter((x) => !x.name.startsWith('blocks'))) c.log(`${p.name} [${p.shape.join(', ')}]`);
  c.log('\n== cell 26: hook names and shapes (block 0 and outside the blocks)');
  const testPrompt = 'The quick brown fox jumped over the lazy dog';
  const numTokens = c.model.toStrTokens(testPrompt).length;
  c.log(`Num tokens: ${numTokens}`);
  const hooks: { name: string; shape: number[] }[] = [];
  const printNameShapeHookFunction = (activation: tf.Tensor, hook: HookContext): void => {
    hooks.push({ name: hook.name, shape: activation.shape });
    c.log(`${hook.name} [${activation.shape.join(', ')}]`);
  };
  const notInLateBlockFilter = (name: string): boolean => name.startsWith('blocks.0.') || !name.startsWith('blocks');
  c.model.runWithHooks(testPrompt, { returnType: 'none', fwdHooks: [[notInLateBlockFilter, printNameShapeHookFunction]] });
  return { parameters: params, numTokens, hooks };
}

// Main_Demo cells 27–29: the unembedding bias left by folding the final LayerNorm (on induction-2l).
function unembedBias(c: Ctx, indName: string, modelName: string): Json {
  const llamaMaxAbs = tf.tidy(() => tf.max(tf.abs(c.model.b_U)).dataSync()[0] as number);
  c.log(`\n== cells 27–29: b_U of ${indName} (${modelName} has no biases: max |b_U| = ${llamaMaxAbs})`);
  const bias = Array.from(c.ind.b_U.dataSync());
  const order = bias.map((v, i) => [v, i] as const).sort((x, y) => y[0] - x[0]); // bias_values, bias_indices = b_U.sort(descending=True)
  const topK = 20;
  const show = ([v, i]: readonly [number, number]): string => `${fmt(v, 2)} ${JSON.stringify(c.ind.toString([i]))}`;
  c.log(`Top ${topK} values`);
  for (const e of order.slice(0, topK)) c.log(show(e));
  c.log('...');
  c.log(`Bottom ${topK} values`);
  for (const e of order.slice(-topK)) c.log(show(e));
  const inRange = (i: number): boolean => i >= c.range[0] && i < c.range[1];
  const topInRange = order.slice(0, topK).filter(([, i]) => inRange(i)).length;
  const bottomInRange = order.slice(-topK).filter(([, i]) => inRange(i)).length;
  const mean = (keep: (i: number) => boolean): number => {
    const xs = bias.filter((_, i) => keep(i));
    return xs.reduce((a, x) => a + x, 0) / xs.length;
  };
  const [meanInRange, meanOutOfRange] = [mean(inRange), mean((i) => !inRange(i))];
  c.log(`top ${topK}: ${topInRange} in the training range [${c.range[0]}, ${c.range[1]}); bottom ${topK}: ${bottomInRange}; mean b_U ${fmt(meanInRange)} inside the range, ${fmt(meanOutOfRange)} outside`);
  c.log('(not unigram statistics here: the training data is uniform over the range, so b_U separates trained from untrained ids)');
  const john = bias[c.ind.toSingleToken(' John')] as number;
  const mary = bias[c.ind.toSingleToken(' Mary')] as number;
  c.log(`John bias: ${fmt(john, 4)}`);
  c.log(`Mary bias: ${fmt(mary, 4)}`);
  c.log(`Prob ratio bias: ${fmt(Math.exp(john - mary), 4)}x`);
  return {
    model: indName, otherModelMaxAbsBU: llamaMaxAbs,
    top: order.slice(0, topK).map(([v, i]) => ({ id: i, value: v })), bottom: order.slice(-topK).map(([v, i]) => ({ id: i, value: v })),
    topInRange, bottomInRange, meanInRange, meanOutOfRange, johnBias: john, maryBias: mary, probRatio: Math.exp(john - mary),
  };
}

// Main_Demo cells 30–37 and 53: tokenisation helpers.
function dealingWithTokens(c: Ctx): Json {
  const m = c.model;
  c.log('\n== cells 30–37, 53: dealing with tokens');
  const exampleText = "The first thing you need to figure out is *how* things are tokenized. `model.to_str_tokens` splits a string into the tokens *as a list of substrings*, and so lets you explore what the text looks like. To demonstrate this, let's use it on this paragraph.";
  const exampleStrTokens = m.toStrTokens(exampleText);
  c.log(JSON.stringify(exampleStrTokens)); // cell 30
  const exampleTokens = m.toTokens(exampleText); // [1, pos]
  const exampleIds = (exampleTokens.arraySync() as number[][])[0] ?? [];
  exampleTokens.dispose();
  c.log(`tensor(${JSON.stringify([exampleIds])})`); // cell 31
  const multi = m.toTokens(['The cat sat on the mat.', 'The cat sat on the mat really hard.']);
  const multiIds = multi.arraySync() as number[][];
  multi.dispose();
  c.log(`tensor(${JSON.stringify(multiIds)})  (the shorter row is padded with <|endoftext|> = ${m.cfg.bosTokenId})`); // cell 32
  // Cell 33: the probability of " The" after "The cat sat on the mat."
  const catText = 'The cat sat on the mat.';
  const theId = m.toSingleToken(' The');
  const [probsShape, theProb] = tf.tidy(() => {
    const catProbs = tf.softmax(m.logits(catText)); // [batch, position, d_vocab]
    const pos = catProbs.shape[1] as number;
    return [catProbs.shape, tf.slice(catProbs, [0, pos - 1, theId], [1, 1, 1]).dataSync()[0] as number] as const;
  });
  c.log(`Probability tensor shape [batch, position, d_vocab] == [${probsShape.join(', ')}]`);
  c.log(`| The| probability: ${(100 * theProb).toFixed(2)}%`);
  // Cells 34 and 53 (the same cell twice): to_string. A bare 256 is not accepted: toString([256]).
  const token256 = m.toString([256]) as string;
  const detok = m.toString(exampleIds) as string;
  for (let i = 0; i < 2; i++) {
    c.log(`Token 256 - the most common pair of ASCII characters: |${token256}|`);
    c.log(`De-Tokenizing the example tokens: ${detok}`);
  }
  // Cells 35–36: get_token_position (" cat" is two tokens here, so the single token " on").
  const withBos = m.getTokenPosition(' on', 'The cat sat on the mat');
  const withoutBos = m.getTokenPosition(' on', 'The cat sat on the mat', { prependBos: false });
  c.log(`With BOS: ${withBos}`);
  c.log(`Without BOS: ${withoutBos}`);
  const twice = 'The cat sat on the mat. The mat sat on the cat.';
  const first = m.getTokenPosition(' on', twice, { mode: 'first' });
  const last = m.getTokenPosition(' on', twice, { mode: 'last' });
  c.log(`First occurrence ${first}`);
  c.log(`Final occurrence ${last}`);
  const arithmetic = ['2342+2017=21445', '1000+1000000=999999'].map((s) => m.toStrTokens(s)); // cell 37
  for (const a of arithmetic) c.log(JSON.stringify(a));
  return {
    exampleStrTokens, exampleTokens: exampleIds, multiTokens: multiIds, probsShape, theProb, token256, detokenizedEqualsText: detok === exampleText || detok === `<|endoftext|>${exampleText}`, detokenized: detok,
    tokenPosition: { withBos, withoutBos, first, last }, arithmetic,
  };
}

// Main_Demo cells 38–40: the prepend_bos gotcha.
function prependBosGotcha(c: Ctx): Json {
  const m = c.model;
  c.log('\n== cells 38–40: prepend_bos');
  const shape = (opts: { prependBos?: boolean }): number[] => tf.tidy(() => m.logits('Hello World', opts).shape);
  const shapes = { byDefault: shape({}), withBos: shape({ prependBos: true }), withoutBos: shape({ prependBos: false }) };
  c.log(`Logits shape by default (with BOS) [${shapes.byDefault.join(', ')}]`);
  c.log(`Logits shape with BOS [${shapes.withBos.join(', ')}]`);
  c.log(`Logits shape without BOS - only ${shapes.withoutBos[1]} positions! [${shapes.withoutBos.join(', ')}]`);
  // Cell 39 with " Tim" for " Claire" (llama-mini's single-token names are " John" and " Tim").
  const prompt = 'Tim and John went to the shops, then John gave a bottle of milk to';
  const [tim, john] = [m.toSingleToken(' Tim'), m.toSingleToken(' John')];
  const diff = (prependBos: boolean): number => tf.tidy(() => lastLogitDiff(m.logits(prompt, { prependBos }), tim, john));
  const withBos = diff(true);
  const withoutBos = diff(false);
  c.log(`Logit difference with BOS: ${fmt(withBos)}`);
  c.log(`Logit difference without BOS: ${fmt(withoutBos)}`);
  const strTokens: Record<string, string[]> = {};
  for (const s of [' Tim', 'Tim', ' Claire', 'Claire']) {
    strTokens[s] = m.toStrTokens(s, { prependBos: false });
    c.log(`|${s}| -> ${JSON.stringify(strTokens[s])}`);
  }
  return { shapes, prompt, logitDiffWithBos: withBos, logitDiffWithoutBos: withoutBos, strTokens };
}

/** Σλ.real / Σ|λ| per leading index (TL's eigenvalue copying score), from {real, imag} [..., k]. */
function copyingScore(e: ComplexTensors): number[][] {
  return tf.tidy(() => tf.div(tf.sum(e.real, -1), tf.sum(tf.sqrt(tf.add(tf.square(e.real), tf.square(e.imag))), -1)).arraySync() as number[][]);
}

// Main_Demo cells 41–44: the FactoredMatrix class on a random rank-2 5×5 matrix.
function factoredMatrixBasics(c: Ctx): Json {
  c.log('\n== cells 41–44: FactoredMatrix basics');
  const A = tf.randomNormal([5, 2], 0, 1, 'float32', 50);
  const B = tf.randomNormal([2, 5], 0, 1, 'float32', 51);
  const C = tf.randomNormal<tf.Rank.R2>([5, 300], 0, 1, 'float32', 52);
  const AB = tf.matMul(A, B);
  const ABFactor = new FactoredMatrix(A, B);
  // torch.linalg.eig / svd of the dense 5×5 matrix: the same algorithms on FactoredMatrix(AB, I), whose product is AB.
  const eye = tf.eye(5);
  const dense = new FactoredMatrix(AB, eye);
  const ABC = tf.matMul(AB, C);
  const ABCFactor = ABFactor.matmul(C);
  try {
    const norms = [item(tf.norm(AB)), item(ABFactor.norm())];
    c.log(`Norms:\n${fmt(norms[0] as number, 4)}\n${fmt(norms[1] as number, 4)}`);
    c.log(`Right dimension: ${ABFactor.rdim}, Left dimension: ${ABFactor.ldim}, Hidden dimension: ${ABFactor.mdim}`);
    const arrays = (e: ComplexTensors): { real: number[]; imag: number[] } => {
      const out = { real: Array.from(e.real.dataSync()), imag: Array.from(e.imag.dataSync()) };
      tf.dispose([e.real, e.imag]);
      return out;
    };
    const denseEig = arrays(dense.eigenvalues);
    const factorEig = arrays(ABFactor.eigenvalues);
    const complexStr = (e: { real: number[]; imag: number[] }): string => e.real.map((r, i) => `${fmt(r, 4)}${(e.imag[i] as number) < 0 ? '-' : '+'}${fmt(Math.abs(e.imag[i] as number), 4)}j`).join(', ');
    c.log(`Eigenvalues:\n[${complexStr(denseEig)}]\n[${complexStr(factorEig)}]`);
    const denseS = Array.from(tf.tidy(() => dense.S.dataSync()));
    const factorS = Array.from(tf.tidy(() => ABFactor.S.dataSync()));
    c.log(`\nSingular Values:\n[${denseS.map((x) => fmt(x, 4)).join(', ')}]\n[${factorS.map((x) => fmt(x, 4)).join(', ')}]`);
    const abcNorms = [item(tf.norm(ABC)), item(ABCFactor.norm())];
    c.log(`Unfactored: [${ABC.shape.join(', ')}] ${fmt(abcNorms[0] as number)}`);
    c.log(`Factored: [${ABCFactor.shape.join(', ')}] ${fmt(abcNorms[1] as number)}`);
    c.log(`Right dimension: ${ABCFactor.rdim}, Left dimension: ${ABCFactor.ldim}, Hidden dimension: ${ABCFactor.mdim}`);
    const unfactored = ABFactor.AB;
    const allClose = tf.tidy(() => tf.max(tf.abs(tf.sub(unfactored, AB))).dataSync()[0] as number) < 1e-5;
    unfactored.dispose();
    c.log(`torch.isclose(AB_unfactored, AB).all(): ${allClose}`);
    return {
      norms, dims: { rdim: ABFactor.rdim, ldim: ABFactor.ldim, mdim: ABFactor.mdim }, denseEigenvalues: denseEig, factoredEigenvalues: factorEig,
      denseSingularValues: denseS, factoredSingularValues: factorS, abcShape: ABCFactor.shape, abcNorms, abcDims: { rdim: ABCFactor.rdim, ldim: ABCFactor.ldim, mdim: ABCFactor.mdim }, allClose,
    };
  } finally {
    tf.dispose([A, B, C, AB, eye, ABC]);
    for (const f of [ABFactor, dense, ABCFactor]) f.dispose();
  }
}

// Main_Demo cells 45–52: eigenvalue copying scores of every head's OV circuit, and of the full W_E·OV·W_U circuit.
function ovCopyingScores(c: Ctx, model: HookedTransformer, modelName: string, prefix: string): Json {
  c.log(`\n== cells 45–52: OV copying scores on ${modelName}`);
  const { nLayers, nHeads } = model.cfg;
  const ov = model.OV; // FactoredMatrix [n_layers, n_heads, d_model, d_model]
  const embedOv = ov.rmatmul(model.W_E); // W_E @ OV
  const fullOv = embedOv.matmul(model.W_U); // [n_layers, n_heads, d_vocab, d_vocab], never materialised
  embedOv.dispose();
  try {
    c.log(ov.toString());
    const eig = ov.eigenvalues; // {real, imag} [n_layers, n_heads, d_head]
    c.log(`[${eig.real.shape.join(', ')}]\ncomplex64 as {real, imag} float32 tensors`);
    const ovScore = copyingScore(eig);
    const lastHead = { real: Array.from(tf.tidy(() => tf.slice(eig.real, [nLayers - 1, nHeads - 1, 0], [1, 1, -1]).dataSync())), imag: Array.from(tf.tidy(() => tf.slice(eig.imag, [nLayers - 1, nHeads - 1, 0], [1, 1, -1]).dataSync())) };
    tf.dispose([eig.real, eig.imag]);
    const heatmap = (file: string, z: number[][], title: string): void => void c.files.push(writeHeatmap(c.page(file), z, {
      title, xLabel: 'Head', yLabel: 'Layer', zLabel: 'copying score Σλ / Σ|λ| (−1 to 1)', range: { signed: 1 },
      xLabels: Array.from({ length: nHeads }, (_, h) => `H${h}`), yLabels: Array.from({ length: nLayers }, (_, l) => `L${l}`),
    }));
    heatmap(`${prefix}ov_copying_score.html`, ovScore, `OV Copying Score for each head in ${modelName}`);
    c.files.push(writeScatterPlot(c.page(`${prefix}ov_eigenvalues_last_head.html`), [{ name: `L${nLayers - 1}H${nHeads - 1}`, x: lastHead.real, y: lastHead.imag }], {
      title: `Eigenvalues of Head L${nLayers - 1}H${nHeads - 1} of ${modelName}`, xLabel: 'Real', yLabel: 'Imaginary',
    }));
    c.log(fullOv.toString());
    const fullEig = fullOv.eigenvalues;
    c.log(`[${fullEig.real.shape.join(', ')}]\ncomplex64 as {real, imag} float32 tensors`);
    const fullScore = copyingScore(fullEig);
    tf.dispose([fullEig.real, fullEig.imag]);
    heatmap(`${prefix}full_ov_copying_score.html`, fullScore, `Full OV (W_E·W_V·W_O·W_U) Copying Score for each head in ${modelName}`);
    const labels = fullScore.flatMap((r, l) => r.map((_, h) => `L${l}H${h}`));
    c.files.push(writeScatterPlot(c.page(`${prefix}ov_vs_full_ov_copying_score.html`), [{ name: 'head', x: fullScore.flat(), y: ovScore.flat(), text: labels }], {
      title: `OV Copying Score for each head in ${modelName}`, xLabel: 'Full OV Copying Score', yLabel: 'OV Copying Score',
    }));
    for (const [name, z] of [['OV copying score', ovScore], ['full OV copying score', fullScore]] as const) {
      c.log(`${name}: ${z.map((r, l) => `L${l} [${r.map((x) => fmt(x, 2)).join(', ')}]`).join('  ')}`);
    }
    return { ovShape: ov.shape, ovMdim: ov.mdim, eigenvaluesShape: [nLayers, nHeads, ov.mdim], ovCopyingScore: ovScore, lastHeadEigenvalues: lastHead, fullOvShape: fullOv.shape, fullOvMdim: fullOv.mdim, fullOvCopyingScore: fullScore };
  } finally {
    ov.dispose();
    fullOv.dispose();
  }
}

// Main_Demo cell 54: generate text.
function generatingText(c: Ctx): Json {
  const prompt = '(CNN) President Barack Obama caught in embarrassing new scandal\n';
  c.log(`\n== cell 54: generate (${c.maxNewTokens} new tokens, temperature 0.7, seed ${c.seed})`);
  const text = c.model.generate(prompt, { maxNewTokens: c.maxNewTokens, temperature: 0.7, prependBos: true, seed: c.seed }) as string;
  c.log(JSON.stringify(text));
  return { prompt, text, startsWithPrompt: text.startsWith(prompt), maxNewTokens: c.maxNewTokens };
}

/** The hook points of {@link TwoLayerModel}, in forward order (HookedRoot registers a table of specs, not module attributes). */
const TOY_HOOKS: HookSpec[] = ['hook_in', 'layer1.hook_square', 'hook_mid', 'layer2.hook_square', 'hook_out'].map((name) => ({
  name, shape: [], description: `scalar at ${name}`, stage: 'embed', fires: 1,
}));

/**
 * Main_Demo cell 55: x₀ = x, x₁ = x₀² + 3, x₂ = x₁² − 4, with a hook point on the input, each
 * layer's square and each layer's output. TL's `HookedRootModule.setup()` finds HookPoint attributes
 * by walking the modules; here the subclass registers its hook table and fires the points itself.
 */
class TwoLayerModel extends HookedRoot {
  private readonly offsets: Record<1 | 2, number> = { 1: 3, 2: -4 };

  constructor() {
    super();
    this.registerHooks(() => TOY_HOOKS);
  }

  /** SquareThenAdd: offset + hook_square(x * x). */
  private squareThenAdd(layer: 1 | 2, x: tf.Tensor, hook: (name: string, t: tf.Tensor) => tf.Tensor): tf.Tensor {
    return tf.add(this.offsets[layer], hook(`layer${layer}.hook_square`, tf.mul(x, x)));
  }

  forward(x: tf.Scalar): tf.Scalar {
    const dispatch = this.hookDispatch(this.flags, 'TwoLayerModel.forward');
    const hook = (name: string, t: tf.Tensor): tf.Tensor => dispatch(name, t);
    return tf.tidy(() => {
      const xIn = hook('hook_in', x);
      const xMid = hook('hook_mid', this.squareThenAdd(1, xIn, hook));
      return hook('hook_out', this.squareThenAdd(2, xMid, hook)) as tf.Scalar;
    });
  }

  /** TL `run_with_hooks`, written on withHooks (HookedRoot has no run method of its own). */
  runWithHooks(x: tf.Scalar, fwdHooks: FwdHooks): tf.Scalar {
    return this.withHooks(fwdHooks, () => this.forward(x));
  }

  /** TL `run_with_cache`: a caching hook on every point (the model classes use an internal recorder). */
  runWithCache(x: tf.Scalar): [tf.Scalar, ActivationCache] {
    const store = new Map<string, tf.Tensor>();
    const hooks: FwdHooks = this.enabledHookNames().map((name) => [name, (a: tf.Tensor) => void store.set(name, tf.keep(a.clone()))]);
    try {
      return [this.runWithHooks(x, hooks), new ActivationCache(store, 0, false)];
    } catch (err) {
      for (const t of store.values()) t.dispose();
      throw err;
    }
  }
}

// Main_Demo cells 55–57: a custom model with hook points, cached and intervened on.
function hookPoints(c: Ctx): Json {
  c.log('\n== cells 55–57: hook points on a custom HookedRoot subclass');
  const toy = new TwoLayerModel();
  const x = tf.scalar(5);
  const [out, cache] = toy.runWithCache(x);
  const output = item(out);
  c.log(`Model output: ${output}`);
  const cached: Record<string, number> = {};
  for (const key of cache) {
    cached[key] = cache.get(key).dataSync()[0] as number;
    c.log(`Value cached at hook ${key} ${cached[key]}`);
  }
  cache.dispose();
  const fired: string[] = [];
  const setToZeroHook = (tensor: tf.Tensor, hook: HookContext): tf.Tensor => {
    fired.push(hook.name);
    c.log(hook.name);
    return tf.zerosLike(tensor);
  };
  const intervened = item(toy.runWithHooks(x, [['layer2.hook_square', setToZeroHook]]));
  x.dispose();
  c.log(`Output after intervening on layer2.hook_scaled ${intervened}`);
  return { output, cached, fired, intervened };
}

async function main(): Promise<number> {
  const { values: v } = parseCliArgs(NAME, process.argv.slice(2), OPTIONS);
  const batch = intOption(NAME, v.batch, 'batch', { dflt: 10, min: 1, max: 64 });
  const seqLen = intOption(NAME, v['seq-len'], 'seq-len', { dflt: 50, min: 2, max: 63 }); // BOS + 2·seq_len ≤ n_ctx 128
  const maxNewTokens = intOption(NAME, v['max-new-tokens'], 'max-new-tokens', { dflt: 50, min: 1, max: 100 });
  const seed = intOption(NAME, v.seed, 'seed', { dflt: 0, min: 0 });
  // With --json, stdout carries exactly one JSON object; the report goes to stderr.
  const log = (line: string): void => void (v.json ? process.stderr : process.stdout).write(`${line}\n`);
  await initBackend(undefined, { quiet: v.json });
  const tensorsBefore = tf.memory().numTensors;
  const model = await HookedTransformer.fromPretrained(v.model, { quiet: true });
  const ind = await HookedTransformer.fromPretrained(v['induction-model'], { quiet: true });
  const files: string[] = [];
  const sections: Json = {};
  try {
    const range = checkpointTokenRange(resolveAlias(v['induction-model'])) ?? [1000, Math.min(10000, ind.cfg.dVocab)]; // TL's randint(1000, 10000) otherwise
    const c: Ctx = { model, ind, range, log, page: (f) => join(v.out, f), files, batch, seqLen, maxNewTokens, seed };
    sections['loadingAndLoss'] = loadingAndLoss(c, v.model);
    sections['caching'] = cachingActivations(c);
    sections['headAblation'] = headAblation(c);
    sections['ioiPatching'] = ioiPatching(c);
    sections['inductionHeads'] = inductionHeads(c, v['induction-model']);
    sections['secondModelInduction'] = secondModelInduction(c, v.model);
    sections['namesAndShapes'] = namesAndShapes(c);
    sections['unembedBias'] = unembedBias(c, v['induction-model'], v.model);
    sections['tokens'] = dealingWithTokens(c);
    sections['prependBos'] = prependBosGotcha(c);
    sections['factoredMatrix'] = factoredMatrixBasics(c);
    sections['ovCopying'] = ovCopyingScores(c, model, v.model, '');
    sections['ovCopyingInductionModel'] = ovCopyingScores(c, ind, v['induction-model'], 'induction_model_'); // not in the notebook: its layer-1 heads copy
    sections['generate'] = generatingText(c);
    sections['hookPoints'] = hookPoints(c);
  } finally {
    model.dispose();
    ind.dispose();
  }
  // Every section frees what it made: with both models disposed, the tensor count is back where it started.
  const tensorsLeaked = tf.memory().numTensors - tensorsBefore;
  log(`\ntensors left after disposing both models: ${tensorsLeaked}`);
  if (v.json) process.stdout.write(`${JSON.stringify({ example: '08_main_demo', model: v.model, inductionModel: v['induction-model'], ...sections, tensorsLeaked, files })}\n`);
  else for (const f of files) log(`wrote ${f}`);
  return 0;
}

await runCliMain(NAME, main);
