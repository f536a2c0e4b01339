/**
 * Check the induction-2l model (issue "Embedded demo models"): on 200 sequences of repeated random
 * tokens, the per-token loss on the second repeat vs the first, the best layer-1 induction score
 * (attention from a token to the one after its previous occurrence) and the best layer-0
 * previous-token score. Run: npx tsx scripts/eval_induction.ts [--model induction-2l] [--json]
 */
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { checkpointTokenRange } from '../src/circuits/io.js';
import { resolveAlias } from '../src/model/aliases.js';
import { HookedTransformer } from '../src/model/hooked_transformer.js';
import { repeatedTokenBatch } from '../src/train/synthetic_data.js';
import { seededRng } from '../src/utils/rng.js';

const { values } = parseArgs({ options: { model: { type: 'string', default: 'induction-2l' }, json: { type: 'boolean', default: false }, n: { type: 'string', default: '200' }, seg: { type: 'string', default: '20' }, low: { type: 'string' }, high: { type: 'string' } } });

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
  model.dispose();
  const best = (xs: number[]) => xs.reduce((bi, v, i) => (v > (xs[bi] ?? -1) ? i : bi), 0);
  const summary = {
    command: 'eval_induction', model: values.model, sequences: rows.length, seg_len: L, token_range: [low, high],
    first_repeat_loss: +firstLoss.toFixed(4), second_repeat_loss: +secondLoss.toFixed(4), loss_gap_nats: +(firstLoss - secondLoss).toFixed(4),
    induction_scores_layer1: induction.map((x) => +x.toFixed(4)), best_induction_head: `L1H${best(induction)}`,
    prev_token_scores_layer0: prevTok.map((x) => +x.toFixed(4)), best_prev_token_head: `L0H${best(prevTok)}`,
    pass: firstLoss - secondLoss >= 3 && Math.max(...induction) >= 0.7 && Math.max(...prevTok) >= 0.7,
  };
  if (values.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
  else console.log(summary);
}

void main();
