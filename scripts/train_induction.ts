/**
 * Train and save `models/induction-2l`: a 2-layer attention-only GPT-2-architecture model (GPT-2
 * tokenizer, tied embeddings) trained on repeated random token segments until it has an induction
 * circuit. Reproducible: fixed seeds for init and data.
 * `--data anywhere` (issue 17, part 6): full n_ctx rows with the repeated segment placed anywhere
 * (scripts/lib/induction_data.ts), optionally with an auxiliary previous-token loss on a layer-0 head.
 * Run: npx tsx scripts/train_induction.ts [--steps 2000] [--calibrate-steps 300] [--out models/induction-2l] [--json]
 */
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../src/backend/backend.js';
import { validateConfig, type ModelConfig } from '../src/model/config.js';
import { disposeParams } from '../src/model/params.js';
import { randomDecoderParams } from '../src/model/random_init.js';
import { gpt2ParamsFromHf } from '../src/model/weights/gpt2.js';
import { saveGpt2Checkpoint } from './lib/gpt2_save.js';
import { loadCheckpointTensors } from '../src/io/checkpoint.js';
import { shippedTokenizerDir } from '../src/tokenizers/load.js';
import { makeTrainableDecoder, nextTokenLossAt } from './lib/lm_training.js';
import { createAdam } from '../src/ops/optimizer.js';
import { repeatedTokenBatch } from '../src/train/synthetic_data.js';
import { placedRepeatBatch, secondRepeatPositions } from './lib/induction_data.js';
import { prevTokenAttnLoss } from './lib/induction_loss.js';
import { trainLoop } from '../src/train/trainer.js';
import { seededRng } from '../src/utils/rng.js';

const { values } = parseArgs({
  options: {
    steps: { type: 'string', default: '2000' },
    'calibrate-steps': { type: 'string', default: '300' },
    out: { type: 'string', default: 'models/induction-2l' },
    seed: { type: 'string', default: '0' },
    lr: { type: 'string', default: '2e-3' },
    'token-high': { type: 'string', default: '3000' },
    batch: { type: 'string', default: '32' },
    'loss-positions': { type: 'string', default: '6' },
    score: { type: 'string', default: 'second' },
    'seg-max': { type: 'string', default: '30' },
    init: { type: 'string' },
    warmup: { type: 'string', default: '50' },
    data: { type: 'string', default: 'classic' },
    'seg-min': { type: 'string', default: '8' },
    others: { type: 'string', default: '8' },
    'prev-aux': { type: 'string', default: '0' },
    'prev-head': { type: 'string', default: '2' },
    label: { type: 'string', default: 'induction-2l' },
    'freeze-embed': { type: 'boolean', default: false },
    'early-frac': { type: 'string', default: '0' },
    'late-frac': { type: 'string', default: '0' },
    'collide-frac': { type: 'string', default: '0' },
    'classic-every': { type: 'string', default: '0' },
    json: { type: 'boolean', default: false },
  },
});
const STEPS = Number(values.steps);
const CAL_STEPS = Number(values['calibrate-steps']);
const SEED = Number(values.seed);
// Segment length varies per batch (8…30): with a fixed length the model learns a positional shortcut
// (attend to the position L-1 back) in layer 0 instead of an induction circuit.
const SEG_MIN = Number(values['seg-min']);
const SEG_MAX = Number(values['seg-max']);
const BATCH = Number(values.batch);
const BOS = 50256;
// Random tokens are drawn from ids [TOKEN_LOW, TOKEN_HIGH) (2,000 ordinary GPT-2 tokens) rather than
// the whole vocabulary: with 50k ids each token embedding would be seen only a handful of times in a
// CPU-sized run, and copying needs tokens the (tied) unembedding can tell apart. The range is saved in
// the checkpoint metadata (`token_range`); scripts/eval_induction.ts and the circuit tasks read it.
export const TOKEN_LOW = 1000;
export const TOKEN_HIGH = Number(values['token-high']);
// Init std 0.8/√d_model (TransformerLens' default `initializer_range`), 0.1 here. GPT-2's 0.02 is
// sized for d_model = 768: at d_model = 64 it makes every attention score ≈ 0 and the gradient to
// W_Q, W_K vanishingly small, and the model sat on the ln(range) plateau for 1,000+ steps.
const INIT_STD = 0.1;
const LR = Number(values.lr);
// Calibration phase: each row scores this many random second-repeat positions (the 50,257-way
// unembedding is >90% of a full-vocabulary step).
const LOSS_POSITIONS = Number(values['loss-positions']);
// Which positions the loss scores: 'second' = the second repeat only (the induction signal);
// 'all' = every position (in the first repeat the best prediction is uniform over the range, so the
// model also learns to be unsure where nothing repeats, instead of confidently copying).
const SCORE = values.score === 'all' ? 'all' : 'second';
// 'classic': rows BOS r₁…r_L r₁…r_L (1 + 2L tokens). 'anywhere': n_ctx-token rows, BOS, a random
// prefix, the repeated segment (L per row in [seg-min, seg-max], start uniform over the window),
// random tokens to the end; the loss scores the second repeat plus `--others` random other positions
// per row (target: a fresh random token, so the model stays uniform where nothing repeats).
const DATA = values.data === 'anywhere' ? 'anywhere' : 'classic';
const OTHERS = Number(values.others);
// Weight of the auxiliary loss −log attn(p → p−1) of layer-0 head `--prev-head` at every position
// (scripts/lib/induction_loss.ts); 0 = off.
const PREV_AUX = Number(values['prev-aux']);
const PREV_HEAD = Number(values['prev-head']);
// --early-frac f: with --data anywhere, a fraction f of rows start their segment within 8 tokens of
// BOS; --late-frac f: a fraction f end their second repeat within 8 tokens of n_ctx − 1. --classic-every n: every n-th step of the restricted phase is a classic batch (BOS r r, the
// second repeat scored), so the short rows the circuit tasks use keep working while the rest moves.
const EARLY_FRAC = Number(values['early-frac']);
const LATE_FRAC = Number(values['late-frac']);
// --collide-frac f: a fraction f of rows get a planted token collision (scripts/lib/induction_data.ts).
const COLLIDE_FRAC = Number(values['collide-frac']);
const CLASSIC_EVERY = Number(values['classic-every']);

export const INDUCTION_CONFIG: ModelConfig = validateConfig({
  modelType: 'gpt2', nLayers: 2, dModel: 64, nHeads: 4, dHead: 16, dMlp: 256, dVocab: 50257, nCtx: 128,
  actFn: 'gelu_new', eps: 1e-5, normalizationType: 'LN', attnOnly: true, bosTokenId: BOS, eosTokenId: BOS,
});

/** Seeded shuffle, first k. */
function sample(rand: () => number, xs: number[], k: number): number[] {
  const a = [...xs];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [a[i], a[j]] = [a[j] as number, a[i] as number];
  }
  return a.slice(0, k);
}

async function main(): Promise<void> {
  const backend = await initBackend();
  const cfg = INDUCTION_CONFIG;
  // --init <checkpoint>: continue training a saved model (same architecture) instead of a fresh init.
  const init = values.init === undefined
    ? randomDecoderParams(cfg, { seed: SEED, std: INIT_STD })
    : gpt2ParamsFromHf(await loadCheckpointTensors(values.init), cfg);
  const model = makeTrainableDecoder(init, { tied: true });
  const rand = seededRng(SEED + 1);
  // --freeze-embed: keep the token embedding (= the tied unembedding, 3.2 M of the 3.26 M parameters)
  // fixed; positions, LayerNorms and attention train. For fine-tuning what is positional.
  const trainable = values['freeze-embed'] ? model.variables.filter((x) => x.shape[0] !== cfg.dVocab) : model.variables;
  const optimizer = createAdam(LR);
  const candidates = [BOS, ...Array.from({ length: TOKEN_HIGH - TOKEN_LOW }, (_, i) => TOKEN_LOW + i)];
  type Batch = { rows: number[][]; scored: [number, number][] };
  // Scored positions (p predicts token p+1): the second repeat p = L+1 … 2L-1, or all p = 0 … 2L-1;
  // every one of them in phase 1, a seeded sample in phase 2.
  const classicBatch = (restricted: boolean): Batch => {
    const seg = SEG_MIN + Math.floor(rand() * (SEG_MAX - SEG_MIN + 1));
    const rows = repeatedTokenBatch(rand, { batch: BATCH, segLen: seg, low: TOKEN_LOW, high: TOKEN_HIGH, bos: BOS });
    const candidatesPos = SCORE === 'all' ? Array.from({ length: 2 * seg }, (_, i) => i) : Array.from({ length: seg - 1 }, (_, i) => seg + 1 + i);
    const scored = rows.flatMap((_, b) => (restricted ? candidatesPos : sample(rand, candidatesPos, SCORE === 'all' ? 2 * LOSS_POSITIONS : LOSS_POSITIONS)).map((p) => [b, p] as [number, number]));
    return { rows, scored };
  };
  // The second repeat of each row (all of it in phase 1, LOSS_POSITIONS of it in phase 2) plus OTHERS
  // random positions 0 … n_ctx−2 outside it.
  const anywhereBatch = (restricted: boolean): Batch => {
    const { rows, places } = placedRepeatBatch(rand, { batch: BATCH, nCtx: cfg.nCtx, segMin: SEG_MIN, segMax: SEG_MAX, low: TOKEN_LOW, high: TOKEN_HIGH, bos: BOS, earlyFrac: EARLY_FRAC, lateFrac: LATE_FRAC, collideFrac: COLLIDE_FRAC });
    const scored = places.flatMap((at, b) => {
      const second = secondRepeatPositions(at);
      const skip = new Set(second);
      const rest = Array.from({ length: cfg.nCtx - 1 }, (_, p) => p).filter((p) => !skip.has(p));
      const picked = [...(restricted ? second : sample(rand, second, LOSS_POSITIONS)), ...sample(rand, rest, OTHERS)];
      return picked.map((p) => [b, p] as [number, number]);
    });
    return { rows, scored };
  };
  let step = 0;
  const phase = (label: string, steps: number, restricted: boolean) => trainLoop({
    variables: trainable,
    loss: () => {
      step += 1;
      const classic = DATA === 'classic' || (restricted && CLASSIC_EVERY > 0 && step % CLASSIC_EVERY === 0);
      const { rows, scored } = classic ? classicBatch(restricted) : anywhereBatch(restricted);
      const lm = nextTokenLossAt(cfg, model.params(), rows, scored, restricted ? { candidates } : {});
      if (PREV_AUX === 0) return lm;
      return tf.tidy(() => tf.add(lm, tf.mul(prevTokenAttnLoss(cfg, model.params(), rows, PREV_HEAD), PREV_AUX)) as tf.Scalar);
    },
    optimizer,
    schedule: restricted
      ? { lr: LR, warmupSteps: Number(values.warmup), totalSteps: steps, decay: 'cosine', minRatio: 0.1 }
      : { lr: LR * 0.1, totalSteps: steps },
    clipNorm: 1,
    logEvery: 50,
    metricsPath: `results/train/${label}.jsonl`,
    label,
  });
  const t0 = performance.now();
  // Phase 1: the softmax over the 2,001 ids the data uses (exact for this data, ~10x cheaper), every
  // second-repeat position. Phase 2: the full 50,257-way softmax, so the other ids get low probability.
  const history = phase(values.label as string, STEPS, true);
  const calibration = CAL_STEPS > 0 ? phase(`${values.label as string}-calibrate`, CAL_STEPS, false) : [];
  optimizer.dispose();
  const seconds = (performance.now() - t0) / 1000;
  const params = model.snapshot();
  await saveGpt2Checkpoint(values.out as string, params, cfg, {
    dtype: 'F32', tied: true, tokenizerDir: shippedTokenizerDir('gpt2'),
    metadata: {
      trained_by: 'scripts/train_induction.ts', steps: String(STEPS), calibrate_steps: String(CAL_STEPS), seed: String(SEED), lr: String(LR),
      init_std: String(INIT_STD), batch: String(BATCH), loss_positions: String(LOSS_POSITIONS), score: SCORE, seg_max: String(SEG_MAX),
      data: DATA, seg_min: String(SEG_MIN), others: String(OTHERS), prev_aux: String(PREV_AUX), prev_head: String(PREV_HEAD), early_frac: String(EARLY_FRAC), late_frac: String(LATE_FRAC), collide_frac: String(COLLIDE_FRAC), classic_every: String(CLASSIC_EVERY), freeze_embed: String(values['freeze-embed']), token_range: `${TOKEN_LOW}-${TOKEN_HIGH}`,
      init: values.init === undefined ? 'random' : `resumed from ${basename(values.init)}`,
    },
  });
  disposeParams(params);
  model.dispose();
  const summary = {
    command: 'train_induction', backend: backend.name, steps: STEPS, calibrate_steps: CAL_STEPS, seconds: +seconds.toFixed(1),
    final_loss_restricted: history.at(-1)?.loss, final_loss_full_vocab: calibration.at(-1)?.loss, out: values.out,
  };
  if (values.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
  else console.log(summary);
}

void main();
