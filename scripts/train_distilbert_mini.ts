/**
 * Train and save `models/distilbert-mini`: a small DistilBERT-architecture masked LM (the
 * distilbert-base-uncased WordPiece vocabulary, projector tied to the word embeddings) trained from
 * scratch on the benchmark-free corpus (scripts/lib/benchmark_free_corpus.ts: the shipped corpora minus
 * every text any probe benchmark split can read, train, dev or test, and minus all of LIAR), packed into
 * 64-token rows. A seeded 5% of the documents is held out; at the end the held-out MLM loss and
 * masked-token accuracy are compared with context-free unigram baselines. The output bias starts at
 * the log unigram prior of the training targets (unless --no-prior-bias), so training starts at the
 * unigram baseline. With --init-embeddings ppmi (the default) the word embeddings start as PPMI-SVD word
 * vectors of the training documents (scripts/lib/word_vectors.ts). Reproducible: fixed seeds for the split, init, data order and masking.
 * Run: npx tsx scripts/train_distilbert_mini.ts [--steps 1000] [--layers 2] [--batch 16] [--lr 3e-3] [--init-std 0.02] [--init-embeddings ppmi|random] [--embed-rms 0.05] [--no-prior-bias] [--out models/distilbert-mini] [--json]
 */
import { statSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../src/backend/backend.js';
import { benchmarkFreeCorpus } from './lib/benchmark_free_corpus.js';
import type { EncoderConfig } from '../src/model/encoder/encoder_config.js';
import { disposeEncoderParams, type EncoderParams } from '../src/model/encoder/encoder_params.js';
import { HookedEncoder } from '../src/model/encoder/hooked_encoder.js';
import { randomEncoderParams } from '../src/model/encoder/random_encoder.js';
import { saveDistilBertCheckpoint } from './lib/distilbert_save.js';
import { loadTokenizer, shippedTokenizerDir } from '../src/tokenizers/load.js';
import type { Tokenizer } from '../src/tokenizers/tokenizer.js';
import { maskTokens, packTokenSequences, targetTokenCounts, unigramBaselines, type MaskedBatch } from '../src/train/mlm_data.js';
import { makeTrainableEncoder, mlmLogitsAt, mlmLossAt, mlmMetrics, type MlmMetrics } from '../src/train/mlm_training.js';
import { createAdam } from '../src/ops/optimizer.js';
import { trainLoop } from '../src/train/trainer.js';
import { ppmiSvdVectors } from './lib/word_vectors.js';
import { seededRng } from '../src/utils/rng.js';
import { writeModelCard, type CardFacts, type EmbeddingInit, type KindAccuracy } from './distilbert_mini_card.js';

const { values } = parseArgs({
  options: {
    steps: { type: 'string', default: '1000' },
    layers: { type: 'string', default: '2' },
    batch: { type: 'string', default: '16' },
    lr: { type: 'string', default: '3e-3' },
    'init-std': { type: 'string' },
    'init-embeddings': { type: 'string', default: 'ppmi' },
    'embed-rms': { type: 'string', default: '0.05' },
    seed: { type: 'string', default: '0' },
    'eval-every': { type: 'string', default: '100' },
    'no-prior-bias': { type: 'boolean', default: false },
    out: { type: 'string', default: 'models/distilbert-mini' },
    metrics: { type: 'string', default: 'results/train/distilbert-mini.jsonl' },
    json: { type: 'boolean', default: false },
  },
});
const STEPS = Number(values.steps);
const SEED = Number(values.seed);
const BATCH = Number(values.batch);
const LR = Number(values.lr);
const SEQ = 64;
// Init std (BERT's 0.02 by default, as the shipped model was trained). Tried 0.8/√dim = 0.071 (what
// got induction-2l off its plateau) for 2,000 steps: at [MASK] inputs still the unigram accuracy
// (5.45%), held-out loss 6.448 vs 6.417 shipped.
const INIT_STD = values['init-std'] === undefined ? 0.02 : Number(values['init-std']);
const HELD_OUT = 0.05;
const INIT_EMBEDDINGS = values['init-embeddings'] as string;
if (INIT_EMBEDDINGS !== 'ppmi' && INIT_EMBEDDINGS !== 'random') throw new Error(`--init-embeddings must be ppmi or random, got ${INIT_EMBEDDINGS}`);
const EMBED_RMS = Number(values['embed-rms']);

export const DISTILBERT_MINI_CONFIG: EncoderConfig = {
  modelType: 'distilbert', nLayers: Number(values.layers), dModel: 128, nHeads: 4, dHead: 32, dMlp: 512, dVocab: 30522,
  nCtx: 128, typeVocabSize: 0, actFn: 'gelu', eps: 1e-12, padTokenId: 0,
};

const log = (s: string): void => { process.stderr.write(`distilbert-mini: ${s}\n`); };

/**
 * Documents of the benchmark-free corpus, tokenised, with their per-source counts (read, dropped as
 * benchmark text, dropped as duplicate, kept) and the seeded held-out split.
 */
async function corpusDocs(tok: Tokenizer): Promise<{ train: number[][]; heldOut: number[][]; sources: Record<string, number>; tokens: number; excluded: number; sourceCounts: unknown }> {
  const c = await benchmarkFreeCorpus({ heldOut: HELD_OUT, seed: SEED });
  const sources = Object.fromEntries(c.sources.map((s) => [`${s.source}: ${s.rows} rows, ${s.benchmark} dropped as benchmark text, ${s.duplicate} as duplicates; kept`, s.kept]));
  const train = c.train.map((t) => tok.encode(t));
  const heldOut = c.heldout.map((t) => tok.encode(t));
  const tokens = [...train, ...heldOut].reduce((a, d) => a + d.length, 0);
  return { train, heldOut, sources, tokens, excluded: c.excludedTexts, sourceCounts: c.sources };
}

/** A seeded permutation of 0…n-1 (Fisher–Yates). */
function shuffled(n: number, rng: () => number): number[] {
  const idx = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [idx[i], idx[j]] = [idx[j] as number, idx[i] as number];
  }
  return idx;
}

/**
 * Word embeddings: rows of the kept tokens set to their PPMI-SVD vectors (co-occurrences in the
 * training documents), scaled to rms EMBED_RMS; every other row keeps its random init.
 */
function ppmiEmbeddings(wE: tf.Tensor2D, docs: readonly number[][], tok: Tokenizer): { wE: tf.Tensor2D; init: EmbeddingInit } {
  const t0 = performance.now();
  const special = [tok.padTokenId, tok.unkTokenId, tok.clsTokenId, tok.sepTokenId, tok.maskTokenId].filter((x): x is number => x !== undefined);
  const window = 5;
  const wv = ppmiSvdVectors(docs, { dim: wE.shape[1], window, exclude: new Set(special), seed: SEED });
  const rms = Math.sqrt(wv.vectors.reduce((a, x) => a + x * x, 0) / wv.vectors.length);
  const data = wE.dataSync().slice();
  const d = wE.shape[1];
  wv.ids.forEach((id, r) => {
    for (let j = 0; j < d; j++) data[id * d + j] = ((wv.vectors[r * d + j] as number) / rms) * EMBED_RMS;
  });
  const seconds = (performance.now() - t0) / 1000;
  log(`PPMI-SVD word vectors for ${wv.ids.length} tokens (window ${window}, ${seconds.toFixed(1)} s); top singular values ${wv.singularValues.slice(0, 3).map((x) => x.toFixed(1)).join(', ')}`);
  return { wE: tf.tensor2d(data, wE.shape), init: { kind: 'ppmi', kept: wv.ids.length, window, rms: EMBED_RMS, seconds } };
}

/**
 * Init normal(0, INIT_STD), LayerNorm 1/0, with the output bias set to the log unigram prior
 * of the training targets (add-one smoothed) when counts are given: training then starts at the
 * unigram baseline and every gain over it comes from the context. With `docs`, the word
 * embeddings start as PPMI-SVD vectors ({@link ppmiEmbeddings}).
 */
function initialParams(cfg: EncoderConfig, counts: Float64Array | undefined, docs: readonly number[][] | undefined, tok: Tokenizer): { params: EncoderParams; embeddings: EmbeddingInit } {
  let init = randomEncoderParams(cfg, { seed: SEED, std: INIT_STD });
  let embeddings: EmbeddingInit = { kind: 'random' };
  if (docs !== undefined) {
    const e = ppmiEmbeddings(init.W_E, docs, tok);
    init.W_E.dispose();
    init = { ...init, W_E: e.wE };
    embeddings = e.init;
  }
  const head = init.mlmHead;
  if (counts === undefined || head === undefined) return { params: init, embeddings };
  const total = counts.reduce((a, b) => a + b, 0) + counts.length;
  head.b_U.dispose();
  return { params: { ...init, mlmHead: { ...head, b_U: tf.tensor1d(Array.from(counts, (c) => Math.log((c + 1) / total))) } }, embeddings };
}

/** Mask the held-out rows once, in batches, with a fixed seed. */
function maskedEvalBatches(rows: number[][], tok: Tokenizer, seed: number): MaskedBatch[] {
  const rng = seededRng(seed);
  const out: MaskedBatch[] = [];
  for (let i = 0; i < rows.length; i += BATCH) out.push(maskTokens(rng, rows.slice(i, i + BATCH), undefined, tok));
  return out;
}

/** Loss and accuracy over batches, weighted by the number of masked positions. */
function evaluate(cfg: EncoderConfig, params: () => EncoderParams, batches: readonly MaskedBatch[]): { loss: number; accuracy: number; count: number } {
  let loss = 0;
  let hits = 0;
  let count = 0;
  for (const b of batches) {
    let m: MlmMetrics = { loss: 0, accuracy: 0, count: 0 };
    tf.tidy(() => { m = mlmMetrics(cfg, params(), b, b); }); // frees the tied W_U built by params()
    loss += m.loss * m.count;
    hits += m.accuracy * m.count;
    count += m.count;
  }
  return { loss: loss / count, accuracy: hits / count, count };
}

/**
 * Accuracy split by what the input showed at the target: `[MASK]` (80%), a random id (10%) or the
 * original token (10%, where copying the input suffices), for the model and for always predicting
 * the most frequent training target.
 */
function accuracyByKind(cfg: EncoderConfig, params: () => EncoderParams, batches: readonly MaskedBatch[], maskId: number, mostFrequentId: number): KindAccuracy[] {
  const acc: Record<KindAccuracy['kind'], [number, number, number]> = { mask: [0, 0, 0], random: [0, 0, 0], kept: [0, 0, 0] };
  for (const b of batches) {
    const pred = tf.tidy(() => Array.from(tf.argMax(mlmLogitsAt(cfg, params(), b, b), -1).dataSync()));
    b.positions.forEach(([r, p], i) => {
      const input = b.inputIds[r]?.[p];
      const label = b.labels[i];
      const a = acc[input === maskId ? 'mask' : input === label ? 'kept' : 'random'];
      a[0] += pred[i] === label ? 1 : 0;
      a[1] += label === mostFrequentId ? 1 : 0;
      a[2] += 1;
    });
  }
  return (['mask', 'random', 'kept'] as const).map((kind) => {
    const [hits, base, n] = acc[kind];
    return { kind, count: n, accuracy: hits / n, unigramAccuracy: base / n };
  });
}

/** Top-5 predictions of the saved model at the [MASK] of a few prompts. */
function samplePredictions(enc: HookedEncoder, tok: Tokenizer): { prompt: string; top5: string[] }[] {
  const prompts = ['the movie was [MASK] and i loved it.', 'stocks fell on wall [MASK] today.', 'call now to claim your free [MASK]!'];
  return prompts.map((prompt) => {
    const ids = enc.encode(prompt).ids[0] ?? [];
    const at = ids.indexOf(tok.maskTokenId as number);
    const top = tf.tidy(() => {
      const logits = enc.forward(prompt); // [1, pos, d_vocab]
      return Array.from(tf.topk(tf.squeeze(tf.slice(logits, [0, at, 0], [1, 1, -1])), 5).indices.dataSync());
    });
    return { prompt, top5: top.map((id) => tok.decodeToken(id)) };
  });
}

async function main(): Promise<void> {
  const backend = await initBackend();
  const cfg = DISTILBERT_MINI_CONFIG;
  const tok = await loadTokenizer(shippedTokenizerDir('distilbert-base-uncased'), { modelType: 'distilbert' });
  const tData = performance.now();
  const { train: trainDocs, heldOut: heldOutDocs, sources, tokens, excluded, sourceCounts } = await corpusDocs(tok);
  const split = { train: trainDocs, test: heldOutDocs };
  const trainRows = packTokenSequences(split.train, SEQ, tok);
  const evalRows = packTokenSequences(split.test, SEQ, tok);
  log(`${trainDocs.length + heldOutDocs.length} documents (${excluded} benchmark texts excluded), ${tokens} tokens → ${trainRows.length} train / ${evalRows.length} held-out rows of ${SEQ} (${((performance.now() - tData) / 1000).toFixed(1)} s)`);
  const evalBatches = maskedEvalBatches(evalRows, tok, SEED + 2);
  const probe = evalBatches.slice(0, 4);

  const counts = targetTokenCounts(trainRows, tok);
  const priorBias = values['no-prior-bias'] !== true;
  const { params: init, embeddings } = initialParams(cfg, priorBias ? counts : undefined, INIT_EMBEDDINGS === 'ppmi' ? split.train : undefined, tok);
  const model = makeTrainableEncoder(init);
  const rng = seededRng(SEED + 1);
  let order: number[] = [];
  const nextRows = (): number[][] => {
    if (order.length < BATCH) order = [...order, ...shuffled(trainRows.length, rng)]; // a new epoch
    return order.splice(0, BATCH).map((i) => trainRows[i] as number[]);
  };
  const t0 = performance.now();
  const evalEvery = Number(values['eval-every']);
  trainLoop({
    variables: model.variables,
    loss: () => {
      const mb = maskTokens(rng, nextRows(), undefined, tok);
      return mlmLossAt(cfg, model.params(), mb, mb);
    },
    optimizer: createAdam(LR, { beta2: 0.98, epsilon: 1e-6 }),
    schedule: { lr: LR, warmupSteps: Math.max(1, Math.round(STEPS * 0.05)), totalSteps: STEPS, decay: 'linear', minRatio: 0.05 },
    clipNorm: 1,
    logEvery: 10,
    evaluate: (step): Record<string, number> => {
      if (step % evalEvery !== 0 && step !== STEPS - 1) return {};
      const m = evaluate(cfg, model.params, probe);
      return { evalLoss: m.loss, evalAcc: m.accuracy };
    },
    metricsPath: values.metrics,
    label: 'distilbert-mini',
  });
  const seconds = (performance.now() - t0) / 1000;
  log(`trained ${STEPS} steps in ${seconds.toFixed(0)} s; evaluating on ${evalRows.length} held-out rows`);
  const heldOut = evaluate(cfg, model.params, evalBatches);
  const base = unigramBaselines(counts, evalBatches.flatMap((b) => b.labels));

  const byKind = accuracyByKind(cfg, model.params, evalBatches, tok.maskTokenId as number, base.mostFrequentId);
  const params = model.snapshot();
  model.dispose();
  await saveDistilBertCheckpoint(values.out as string, params, cfg, {
    dtype: 'F16', tokenizerDir: shippedTokenizerDir('distilbert-base-uncased'),
    metadata: { trained_by: 'scripts/train_distilbert_mini.ts', steps: String(STEPS), seed: String(SEED), init_std: String(INIT_STD), init_embeddings: INIT_EMBEDDINGS },
  });
  disposeEncoderParams(params);
  const enc = await HookedEncoder.fromPretrained(values.out as string);
  const saved = evaluate(cfg, () => enc.params, evalBatches);
  const samples = samplePredictions(enc, tok);
  enc.dispose();
  const sizeBytes = statSync(`${values.out}/model.safetensors`).size;
  const facts: CardFacts = {
    cfg, steps: STEPS, batch: BATCH, seqLen: SEQ, lr: LR, seed: SEED, initStd: INIT_STD, embeddings, priorBias, seconds, backend, sources, tokens,
    trainRows: trainRows.length, evalRows: evalRows.length, heldOut, saved, base,
    mostFrequentToken: tok.decodeToken(base.mostFrequentId), byKind, sizeBytes, samples,
  };
  writeModelCard(`${values.out}/MODEL_CARD.md`, facts);
  // The run's figures, so the card can be rewritten (e.g. with the exclusion check) without retraining.
  writeFileSync(`${values.out}/run_facts.json`, `${JSON.stringify({ ...facts, excludedTexts: excluded, sourceCounts }, null, 1)}\n`);
  const summary = {
    command: 'train_distilbert_mini', backend: backend.name, steps: STEPS, init_embeddings: embeddings, layers: cfg.nLayers, batch: BATCH, lr: LR, prior_bias: priorBias,
    seconds: +seconds.toFixed(1),
    train_rows: trainRows.length, held_out_rows: evalRows.length, held_out_masked: heldOut.count,
    held_out_loss: +heldOut.loss.toFixed(4), held_out_accuracy: +heldOut.accuracy.toFixed(4),
    saved_f16_loss: +saved.loss.toFixed(4), saved_f16_accuracy: +saved.accuracy.toFixed(4),
    unigram_most_frequent_token: facts.mostFrequentToken, unigram_accuracy: +base.mostFrequentAccuracy.toFixed(4),
    unigram_sampling_accuracy: +base.samplingAccuracy.toFixed(4), unigram_loss: +base.unigramLoss.toFixed(4),
    accuracy_by_input: Object.fromEntries(byKind.map((k) => [k.kind, { count: k.count, accuracy: +k.accuracy.toFixed(4), unigram_accuracy: +k.unigramAccuracy.toFixed(4) }])),
    size_bytes: sizeBytes, out: values.out,
  };
  log(`held-out loss ${summary.held_out_loss} accuracy ${summary.held_out_accuracy} | unigram '${summary.unigram_most_frequent_token}' accuracy ${summary.unigram_accuracy}, sampling ${summary.unigram_sampling_accuracy}, loss ${summary.unigram_loss}`);
  if (values.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
  else console.log(summary);
}

void main();
