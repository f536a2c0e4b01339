/**
 * Train and save `models/llama-mini`: a small Llama-architecture causal LM (RMSNorm, rotary
 * positions, grouped-query attention, SwiGLU MLP, untied unembedding; HF `LlamaForCausalLM` layout)
 * with its own byte-level BPE tokenizer, so the Llama path (loading, hooks, generation, the KV cache)
 * runs offline. It is trained only on text no benchmark evaluates (scripts/lib/benchmark_free_corpus.ts):
 * every text the probe benchmark can read, and all of LIAR, is excluded with its normalised duplicates.
 * A seeded 5% of the documents is held out; at the end the held-out perplexity of the saved model is
 * compared with an add-one-smoothed unigram model on the same tokens. Reproducible: fixed seeds for
 * the split, init and batch order.
 * Run: npx tsx scripts/train_llama_mini.ts [--steps 1800] [--batch 4] [--lr 3e-3] [--vocab 2048] [--seed 0] [--out models/llama-mini] [--json]
 */
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../src/backend/backend.js';
import { llamaConfigFromHf } from '../src/model/hf_config.js';
import { HookedTransformer } from '../src/model/hooked_transformer.js';
import { disposeParams, type DecoderParams } from '../src/model/params.js';
import { randomDecoderParams } from '../src/model/random_init.js';
import { createAdam } from '../src/ops/optimizer.js';
import { loadTokenizer } from '../src/tokenizers/load.js';
import { trainLoop } from '../src/train/trainer.js';
import { seededRng } from '../src/utils/rng.js';
import { writeLinePlot } from '../src/viz/charts.js';
import { benchmarkFreeCorpus } from './lib/benchmark_free_corpus.js';
import { tokenizerJson, trainByteLevelBpe } from './lib/bpe_train.js';
import { saveLlamaCheckpoint } from './lib/llama_save.js';
import { makeTrainableDecoder, nextTokenLossAt } from './lib/lm_training.js';
import { writeLlamaMiniCard, type LlamaMiniFacts } from './llama_mini_card.js';

const { values } = parseArgs({
  options: {
    steps: { type: 'string', default: '1800' },
    batch: { type: 'string', default: '4' },
    lr: { type: 'string', default: '3e-3' },
    vocab: { type: 'string', default: '2048' },
    seed: { type: 'string', default: '0' },
    'eval-every': { type: 'string', default: '100' },
    out: { type: 'string', default: 'models/llama-mini' },
    json: { type: 'boolean', default: false },
  },
});
const STEPS = Number(values.steps);
const BATCH = Number(values.batch);
const LR = Number(values.lr);
const VOCAB = Number(values.vocab);
const SEED = Number(values.seed);
const EVAL_EVERY = Number(values['eval-every']);
const OUT = values.out as string;
const CTX = 128;
const WARMUP = 100;
const HELD_OUT = 0.05;
const INIT_STD = 0.02;
/** Held-out windows scored during training (the curve); the final figure uses every held-out token. */
const CURVE_WINDOWS = 32;
const SPECIAL = '<|endoftext|>';
const METRICS_JSONL = 'results/train/llama-mini.jsonl';
const CURVE_HTML = join(OUT, 'training_curve.html');
const PROMPTS = ['This movie was', 'I have never seen', 'Oil prices', 'The company said'];
const log = (s: string): void => void process.stderr.write(`llama-mini: ${s}\n`);

/** The HF config fields of the model (vocab and BOS/EOS come from the tokenizer). */
const hfConfig = (bos: number) => ({
  model_type: 'llama', num_hidden_layers: 4, hidden_size: 128, num_attention_heads: 4, num_key_value_heads: 2, head_dim: 32,
  intermediate_size: 344, vocab_size: VOCAB, max_position_embeddings: CTX, rms_norm_eps: 1e-5, rope_theta: 10000,
  hidden_act: 'silu', bos_token_id: bos, eos_token_id: bos,
});

/** Windows of at most CTX tokens covering `[bos, ...doc]`, each predicting its tokens 1…; consecutive ones share one token. */
function docWindows(doc: readonly number[], bos: number): number[][] {
  const ids = [bos, ...doc];
  const out: number[][] = [];
  for (let s = 0; s + 1 < ids.length; s += CTX - 1) out.push(ids.slice(s, s + CTX));
  return out;
}

/** Mean next-token loss (nats) of `windows` under the current parameters, token-weighted. */
function windowsLoss(score: (row: number[]) => number, windows: readonly number[][]): number {
  let sum = 0;
  let n = 0;
  for (const w of windows) {
    sum += score(w) * (w.length - 1);
    n += w.length - 1;
  }
  return sum / n;
}

/** Add-one-smoothed unigram NLL (nats/token) of the tokens each window predicts. */
function unigramLoss(counts: readonly number[], total: number, windows: readonly number[][]): number {
  let sum = 0;
  let n = 0;
  for (const w of windows) {
    for (const t of w.slice(1)) sum -= Math.log(((counts[t] ?? 0) + 1) / (total + counts.length));
    n += w.length - 1;
  }
  return sum / n;
}

/** Trainable decoder at a seeded init: W_U drawn on its own (not W_Eᵀ), biases zero and frozen (HF Llama has none). */
function initModel(cfg: ReturnType<typeof llamaConfigFromHf>) {
  const p = randomDecoderParams(cfg, { seed: SEED, std: INIT_STD });
  p.W_U.dispose();
  const init: DecoderParams = { ...p, W_U: tf.randomNormal([cfg.dModel, cfg.dVocab], 0, INIT_STD, 'float32', SEED + 1000) as tf.Tensor2D };
  const model = makeTrainableDecoder(init, { tied: false });
  const p0 = model.params();
  const frozen = new Set<tf.Tensor | undefined>([p0.b_U, ...p0.blocks.flatMap((b) => [b.attn.bQ, b.attn.bK, b.attn.bV, b.attn.bO, b.mlp?.b_in, b.mlp?.b_out])]);
  return { model, variables: model.variables.filter((v) => !frozen.has(v)) };
}

async function main(): Promise<void> {
  const backend = await initBackend();
  const t0 = performance.now();
  mkdirSync(OUT, { recursive: true });
  const corpus = await benchmarkFreeCorpus({ heldOut: HELD_OUT, seed: SEED });
  log(`${corpus.train.length} training and ${corpus.heldout.length} held-out documents; ${corpus.excludedTexts} benchmark texts excluded`);
  const bpe = trainByteLevelBpe(corpus.train, { vocabSize: VOCAB, special: SPECIAL, onProgress: (m) => log(`tokenizer: ${m} merges`) });
  const bos = bpe.vocab[SPECIAL] as number;
  writeFileSync(join(OUT, 'tokenizer.json'), `${JSON.stringify(tokenizerJson(bpe))}\n`);
  writeFileSync(join(OUT, 'tokenizer_config.json'), `${JSON.stringify({
    tokenizer_class: 'PreTrainedTokenizerFast', bos_token: SPECIAL, eos_token: SPECIAL, unk_token: null, pad_token: null,
    add_bos_token: true, add_eos_token: false, model_max_length: CTX, clean_up_tokenization_spaces: false,
  }, null, 2)}\n`);
  const tok = await loadTokenizer(OUT, { modelType: 'llama' });
  const all = [...corpus.train, ...corpus.heldout];
  const roundTripFailures = all.filter((t) => tok.decode(tok.encode(t)) !== t).length;
  const trainIds = corpus.train.map((t) => tok.encode(t));
  const heldIds = corpus.heldout.map((t) => tok.encode(t));
  const stream = trainIds.flatMap((ids) => [bos, ...ids]);
  const counts = new Array<number>(VOCAB).fill(0);
  for (const ids of trainIds) for (const t of ids) counts[t] = (counts[t] ?? 0) + 1;
  const trainTokens = trainIds.reduce((a, d) => a + d.length, 0);
  const chars = corpus.train.reduce((a, t) => a + t.length, 0);
  log(`${bpe.merges.length} merges; ${trainTokens} training tokens (${(chars / trainTokens).toFixed(2)} chars/token); round-trip failures ${roundTripFailures}`);

  const cfg = llamaConfigFromHf(hfConfig(bos));
  const { model, variables } = initModel(cfg);
  const rand = seededRng(SEED + 1);
  const positions = Array.from({ length: CTX - 1 }, (_, p) => p);
  const heldWindows = heldIds.flatMap((d) => docWindows(d, bos));
  const curveWindows = heldWindows.filter((_, i) => i % Math.max(1, Math.floor(heldWindows.length / CURVE_WINDOWS)) === 0).slice(0, CURVE_WINDOWS);
  const scoreNow = (w: number[]): number =>
    tf.tidy(() => nextTokenLossAt(cfg, model.params(), [w], w.slice(1).map((_, p) => [0, p] as [number, number])).dataSync()[0] as number);
  const optimizer = createAdam(LR);
  const tTrain = performance.now();
  const history = trainLoop({
    variables,
    // Each row: CTX tokens from a random offset of the packed stream (documents each start with BOS).
    loss: () => {
      const rows = Array.from({ length: BATCH }, () => {
        const s = Math.floor(rand() * (stream.length - CTX));
        return stream.slice(s, s + CTX);
      });
      return nextTokenLossAt(cfg, model.params(), rows, rows.flatMap((_, b) => positions.map((p) => [b, p] as [number, number])));
    },
    optimizer,
    schedule: { lr: LR, warmupSteps: WARMUP, totalSteps: STEPS, decay: 'cosine', minRatio: 0.1 },
    clipNorm: 1,
    logEvery: 25,
    evaluate: (step): Record<string, number> => (step % EVAL_EVERY === 0 || step === STEPS - 1 ? { heldout: windowsLoss(scoreNow, curveWindows) } : {}),
    metricsPath: METRICS_JSONL,
    label: 'llama-mini',
  });
  optimizer.dispose();
  const trainSeconds = (performance.now() - tTrain) / 1000;
  const params = model.snapshot();
  model.dispose();
  await saveLlamaCheckpoint(OUT, params, cfg, {
    metadata: { trained_by: 'scripts/train_llama_mini.ts', steps: String(STEPS), batch: String(BATCH), lr: String(LR), seed: String(SEED), ctx: String(CTX) },
  });
  disposeParams(params);

  // Everything below uses the saved folder, loaded as a user would.
  const lm = await HookedTransformer.fromPretrained(OUT, { quiet: true });
  const scoreSaved = (w: number[]): number => tf.tidy(() => (lm.loss([w]) as tf.Scalar).dataSync()[0] as number);
  // The saved model must score the curve's windows as the trained variables did at the last step.
  const lastCurve = history.at(-1)?.['heldout'];
  const savedCurve = windowsLoss(scoreSaved, curveWindows);
  if (lastCurve === undefined || Math.abs(savedCurve - lastCurve) > 1e-3) throw new Error(`saved model scores ${savedCurve}, trained one ${String(lastCurve)}`);
  const heldout = { model: windowsLoss(scoreSaved, heldWindows), unigram: unigramLoss(counts, trainTokens, heldWindows), tokens: heldWindows.reduce((a, w) => a + w.length - 1, 0), windows: heldWindows.length };
  const samples = PROMPTS.map((prompt) => ({ prompt, text: lm.generate(prompt, { maxNewTokens: 32, temperature: 0 }) as string }));
  lm.dispose();
  const totalSeconds = (performance.now() - t0) / 1000;
  log(`held-out ${heldout.model.toFixed(3)} nats/token (ppl ${Math.exp(heldout.model).toFixed(1)}) vs unigram ${heldout.unigram.toFixed(3)} (ppl ${Math.exp(heldout.unigram).toFixed(1)})`);

  const evals = history.filter((h) => h['heldout'] !== undefined);
  // Self-contained (plotly.js inlined, 4.8 MB); the card carries the same figures as a table.
  writeLinePlot(CURVE_HTML, [
    { name: `training loss (batch of ${BATCH}×${CTX} tokens)`, x: history.map((h) => h.step), y: history.map((h) => h.loss) },
    { name: `held-out loss (${curveWindows.length} windows)`, x: evals.map((h) => h.step), y: evals.map((h) => h['heldout'] as number) },
    { name: 'add-one unigram, held-out', x: [0, STEPS - 1], y: [heldout.unigram, heldout.unigram] },
  ], {
    title: 'llama-mini training: next-token cross-entropy',
    xLabel: 'training step', yLabel: 'cross-entropy (nats per token)',
    description: `scripts/train_llama_mini.ts, seed ${SEED}: ${STEPS} steps, Adam lr ${LR} (warm-up ${WARMUP}, cosine to 10%). ` +
      `Final held-out loss on all ${heldout.tokens} held-out tokens: ${heldout.model.toFixed(3)} nats (perplexity ${Math.exp(heldout.model).toFixed(1)}) vs ${heldout.unigram.toFixed(3)} for the add-one unigram.`,
  });
  const step = Math.max(1, Math.floor(corpus.heldout.length / 20));
  const sample = corpus.heldout.filter((_, i) => i % step === 0).slice(0, 20);
  writeFileSync(join(OUT, 'heldout_sample.json'), `${JSON.stringify({
    note: 'every ' + step + 'th held-out document (never trained on) and the add-one unigram counts of the training tokens (no BOS), for tests/scripts/llama_mini.test.ts',
    texts: sample, unigramCounts: counts, unigramTotal: trainTokens,
  })}\n`);
  const facts: LlamaMiniFacts = {
    cfg, hf: hfConfig(bos), steps: STEPS, batch: BATCH, ctx: CTX, lr: LR, warmup: WARMUP, seed: SEED, initStd: INIT_STD, backend,
    sources: corpus.sources, excludedTexts: corpus.excludedTexts, trainDocs: corpus.train.length, heldoutDocs: corpus.heldout.length,
    trainTokens, chars, merges: bpe.merges.length, roundTripFailures, roundTripDocs: all.length, trainSeconds, totalSeconds,
    finalTrainLoss: history.at(-1)?.loss ?? NaN, heldout,
    curve: evals.map((h) => ({ step: h.step, train: h.loss, heldout: h['heldout'] as number })), samples, sizeBytes: statSync(join(OUT, 'model.safetensors')).size,
  };
  writeLlamaMiniCard(join(OUT, 'MODEL_CARD.md'), facts);
  const summary = {
    command: 'train_llama_mini', backend: backend.name, steps: STEPS, batch: BATCH, seconds_train: +trainSeconds.toFixed(1), seconds_total: +totalSeconds.toFixed(1),
    documents: { train: corpus.train.length, heldout: corpus.heldout.length, sources: corpus.sources }, train_tokens: trainTokens,
    heldout: { nll: +heldout.model.toFixed(4), ppl: +Math.exp(heldout.model).toFixed(2), unigram_nll: +heldout.unigram.toFixed(4), unigram_ppl: +Math.exp(heldout.unigram).toFixed(2), tokens: heldout.tokens },
    final_train_loss: facts.finalTrainLoss, model_bytes: facts.sizeBytes, samples, out: OUT,
  };
  if (values.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
  else log(JSON.stringify(summary, null, 2));
}

await main();
