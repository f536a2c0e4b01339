/**
 * Check the induction-2l model (issue "Embedded demo models"): on 200 sequences of repeated random
 * tokens, the per-token loss on the second repeat vs the first, the best layer-1 induction score
 * (attention from a token to the one after its previous occurrence) and the best layer-0
 * previous-token score; then, by position (issue 17, part 6), the second-repeat loss (L = --seg) for
 * every segment start 1 … n_ctx − 2L after BOS and a random prefix, the same after a 60-token random
 * prefix, and the layer-0 previous-token score at every position 1 … n_ctx − 1. Acceptance: max loss
 * ≤ 0.5 nats, min previous-token score (best head) ≥ 0.7. Each start's loss is the mean over `--draws`
 * random rows (default 16, 304 predictions): with 4 rows one row whose segment repeats a token by
 * chance (~10% of rows at L = 20) moves a start's mean by up to ~0.3 nats (an attention-only copier
 * mixes the two candidates' logits linearly, so an ambiguous position costs 10+ nats unless its
 * attention splits exactly in half).
 * Run: npx tsx scripts/eval_induction.ts [--model induction-2l] [--json] [--draws 16] [--stride 1] [--position-seed 4242]
 */
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { checkpointTokenRange } from '../src/circuits/io.js';
import { resolveAlias } from '../src/model/aliases.js';
import { HookedTransformer } from '../src/model/hooked_transformer.js';
import { repeatedTokenBatch } from '../src/train/synthetic_data.js';
import { seededRng } from '../src/utils/rng.js';
import { lastStart } from './lib/induction_data.js';
import { prevTokenByPosition, secondRepeatLoss } from './lib/induction_eval.js';

const { values } = parseArgs({ options: { model: { type: 'string', default: 'induction-2l' }, json: { type: 'boolean', default: false }, n: { type: 'string', default: '200' }, seg: { type: 'string', default: '20' }, low: { type: 'string' }, high: { type: 'string' },
  draws: { type: 'string', default: '16' }, stride: { type: 'string', default: '1' }, 'prefix-draws': { type: 'string', default: '32' }, 'position-seed': { type: 'string', default: '4242' }, 'prev-rows': { type: 'string', default: '32' } } });

/** Loss by segment start, the 60-token-prefix loss and previous-token score by position (see the header). */
function byPosition(model: HookedTransformer, L: number, low: number, high: number) {
  const nCtx = model.cfg.nCtx;
  const o = { nCtx, low, high, bos: model.cfg.bosTokenId ?? 50256 };
  // --position-seed: the rows of the by-position checks (4242 is the seed the shipped checkpoint was
  // chosen on; another seed is a held-out re-measurement, see the model card).
  const rand = seededRng(Number(values['position-seed']));
  const last = lastStart(nCtx, L);
  const stride = Number(values.stride);
  const starts = [...Array.from({ length: Math.ceil(last / stride) }, (_, i) => 1 + i * stride).filter((s) => s < last), last];
  const lossByStart = starts.map((start) => [start, +secondRepeatLoss(model, rand, { start, segLen: L }, o, Number(values.draws)).toFixed(4)] as [number, number]);
  const prefix60 = secondRepeatLoss(model, rand, { start: 61, segLen: L }, o, Number(values['prefix-draws']));
  const prevRows = Array.from({ length: Number(values['prev-rows']) }, () => [o.bos, ...Array.from({ length: nCtx - 1 }, () => low + Math.floor(rand() * (high - low)))]);
  const prev = prevTokenByPosition(model, prevRows);
  const meanOf = (xs: number[]) => xs.slice(1).reduce((a, v) => a + v, 0) / (xs.length - 1);
  const head = prev.reduce((bi, xs, i) => (meanOf(xs) > meanOf(prev[bi] ?? []) ? i : bi), 0);
  const prevHead = (prev[head] ?? []).slice(1);
  const maxLoss = Math.max(...lossByStart.map(([, v]) => v));
  const minPrev = Math.min(...prevHead);
  return {
    seg_len: L, draws_per_start: Number(values.draws), loss_by_start: lossByStart, max_loss_over_starts: maxLoss,
    worst_start: lossByStart.find(([, v]) => v === maxLoss)?.[0], prefix60_loss: +prefix60.toFixed(4),
    prev_token_head: `L0H${head}`, prev_token_by_position: prevHead.map((x) => +x.toFixed(4)), min_prev_token_score: +minPrev.toFixed(4),
    worst_prev_position: prevHead.indexOf(minPrev) + 1,
    pass: maxLoss <= 0.5 && prefix60 <= 0.5 && minPrev >= 0.7,
  };
}

/** Mean of pattern[b, h, q, q - offset] over the given query positions, per head. */
function stripeScore(pattern: tf.Tensor4D, queries: number[], offset: number): number[] {
  const p = pattern.arraySync();
  const [batch, heads] = pattern.shape;
  return Array.from({ length: heads }, (_, h) => {
    let s = 0;
    for (let b = 0; b < batch; b++) for (const q of queries) s += p[b]?.[h]?.[q]?.[q - offset] ?? 0;
    return s / (batch * queries.length);
  });
}

async function main(): Promise<void> {
  const model = await HookedTransformer.fromPretrained(values.model as string, { quiet: values.json });
  const L = Number(values.seg);
  // Tokens from the model's training range (checkpoint metadata `token_range`) unless --low/--high say otherwise.
  const range = checkpointTokenRange(resolveAlias(values.model as string)) ?? [1000, 3000];
  const low = values.low === undefined ? range[0] : Number(values.low);
  const high = values.high === undefined ? range[1] : Number(values.high);
  const rows = repeatedTokenBatch(seededRng(12345), { batch: Number(values.n), segLen: L, low, high, bos: model.cfg.bosTokenId ?? 50256 });
  // Batches of 25: 200 × 41 positions × 50,257 logits would not fit the 4 GB wasm heap at once.
  const lpt: number[][] = [];
  const ind: number[][] = [];
  const prev: number[][] = [];
  const secondQueries = Array.from({ length: L - 1 }, (_, i) => L + 2 + i); // second-repeat positions with a known next token
  const allQueries = Array.from({ length: 2 * L - 1 }, (_, i) => i + 2);
  for (let s = 0; s < rows.length; s += 25) {
    const chunk = rows.slice(s, s + 25);
    const [perTok, cache] = model.runWithCache(chunk, { returnType: 'loss', lossPerToken: true, namesFilter: (n) => n.endsWith('hook_pattern') });
    lpt.push(...((perTok as tf.Tensor2D).arraySync())); // [batch, pos-1]: entry p scores token p+1
    ind.push(stripeScore(cache.get('blocks.1.attn.hook_pattern') as tf.Tensor4D, secondQueries, L - 1).map((x) => x * chunk.length));
    prev.push(stripeScore(cache.get('blocks.0.attn.hook_pattern') as tf.Tensor4D, allQueries, 1).map((x) => x * chunk.length));
    (perTok as tf.Tensor).dispose();
    cache.dispose();
  }
  const sumCols = (m: number[][]): number[] => (m[0] ?? []).map((_, h) => m.reduce((a, r) => a + (r[h] ?? 0), 0) / rows.length);
  const induction = sumCols(ind);
  const prevTok = sumCols(prev);
  const mean = (f: (r: number[]) => number[]): number => { const xs = lpt.flatMap(f); return xs.reduce((a, v) => a + v, 0) / xs.length; };
  const firstLoss = mean((r) => r.slice(1, L)); // predicting tokens 2..L of the first repeat
  const secondLoss = mean((r) => r.slice(L + 1, 2 * L)); // predicting tokens 2..L of the second repeat
  const anywhere = byPosition(model, L, low, high);
  model.dispose();
  const best = (xs: number[]) => xs.reduce((bi, v, i) => (v > (xs[bi] ?? -1) ? i : bi), 0);
  const summary = {
    command: 'eval_induction', model: values.model, sequences: rows.length, seg_len: L, token_range: [low, high],
    first_repeat_loss: +firstLoss.toFixed(4), second_repeat_loss: +secondLoss.toFixed(4), loss_gap_nats: +(firstLoss - secondLoss).toFixed(4),
    induction_scores_layer1: induction.map((x) => +x.toFixed(4)), best_induction_head: `L1H${best(induction)}`,
    prev_token_scores_layer0: prevTok.map((x) => +x.toFixed(4)), best_prev_token_head: `L0H${best(prevTok)}`,
    pass: firstLoss - secondLoss >= 3 && Math.max(...induction) >= 0.7 && Math.max(...prevTok) >= 0.7,
    anywhere,
  };
  if (values.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
  else console.log(summary);
}

void main();
