/**
 * Circuit discovery on `models/induction-2l` (repeated random tokens from its training range): the
 * head detector names a previous-token head in layer 0 and an induction head in layer 1; node pruning
 * keeps both with faithfulness ≥ 0.8; EAP-IG and ACDC rank prev-token head → induction head (K input)
 * among their top edges (top 16 of 81: the model has four redundant induction heads). Skipped, with a message, when the model folder is absent.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/backend.js';
import { acdc } from '../../src/circuits/acdc.js';
import { edgeAttributionPatching } from '../../src/circuits/eap.js';
import { checkpointTokenRange } from '../../src/circuits/io.js';
import { iterativePruning } from '../../src/circuits/prune.js';
import type { CircuitResult } from '../../src/circuits/result.js';
import { inductionTask, type CircuitTask } from '../../src/circuits/task.js';
import { detectHead } from '../../src/evals/head_detector.js';
import { HookedTransformer } from '../../src/model/hooked_transformer.js';

const MODEL_DIR = resolve('models/induction-2l');
const present = existsSync(join(MODEL_DIR, 'config.json')) && existsSync(join(MODEL_DIR, 'model.safetensors'));
if (!present) console.warn(`circuits_induction: skipped — ${MODEL_DIR} is absent (train it: npx tsx scripts/train_induction.ts)`);

/** Rank (1-based) of an edge by |score|. */
function rankOf(res: CircuitResult, edge: string): number {
  const ranked = Object.entries(res.edgeScores).sort((a, b) => Math.abs(b[1]) - Math.abs(a[1])).map(([id]) => id);
  return ranked.indexOf(edge) + 1;
}

const argmax = (xs: readonly number[]): number => xs.indexOf(Math.max(...xs));

describe.skipIf(!present)('circuit discovery on induction-2l', () => {
  let model: HookedTransformer;
  let task: CircuitTask;
  let prev = '';
  let ind = '';
  let keyEdge = '';
  let prevScores: number[] = [];
  let indScores: number[] = [];

  beforeAll(async () => {
    await initBackend(undefined, { quiet: true });
    model = await HookedTransformer.fromPretrainedNoProcessing(MODEL_DIR, { quiet: true });
    const [low, high] = checkpointTokenRange(MODEL_DIR) ?? [1000, 3000]; // the training range
    task = inductionTask({ batch: 8, segLen: 20, low, high, seed: 0 });
    const rows = task.prompts.slice(0, 4).map((r) => [...r]);
    prevScores = detectHead(model, rows, 'previous_token_head')[0] as number[];
    indScores = detectHead(model, rows, 'induction_head')[1] as number[];
    prev = `a0.${argmax(prevScores)}`;
    ind = `a1.${argmax(indScores)}`;
    keyEdge = `${prev}->${ind}<k>`;
  });
  afterAll(() => model?.dispose());

  it('the head detector finds a previous-token head in layer 0 and an induction head in layer 1', () => {
    console.log(`previous-token scores L0 ${JSON.stringify(prevScores)} → ${prev}; induction scores L1 ${JSON.stringify(indScores)} → ${ind}`);
    expect(Math.max(...prevScores)).toBeGreaterThan(0.5);
    // TL's 'mul' score counts attention from the first repeat too, where nothing matches: a perfect
    // induction head scores about (L − 1)/(2L + 1) ≈ 0.46 for L = 20.
    expect(Math.max(...indScores)).toBeGreaterThan(0.3);
  });

  it('node pruning keeps both heads with faithfulness ≥ 0.8', () => {
    // No threshold: the smallest circuit along the greedy removal order with faithfulness ≥ 0.8 (the default target).
    const res = iterativePruning(model, { ...task, quiet: true });
    console.log(`prune: kept ${res.nodes.join(' ')}; faithfulness ${JSON.stringify(res.faithfulness)}; scores ${JSON.stringify(res.nodeScores)}`);
    expect(res.nodes).toContain(prev);
    expect(res.nodes).toContain(ind);
    expect(res.nodes.length).toBeLessThan(10); // something was pruned
    expect(res.faithfulness.ratio).toBeGreaterThanOrEqual(0.8);
  });

  it('EAP-IG (sender activations) ranks prev-token head → induction head (K) among its top edges', () => {
    // Plain EAP misses K-composition: at the clean input the induction pattern is saturated
    // (gradient ≈ 0), and interpolating the whole input moves queries and keys together. IG over
    // each sender's own output sees clean queries meet ablated keys, as the edge ablation does.
    const res = edgeAttributionPatching(model, { ...task, topN: 16, igSteps: 5, igTarget: 'senders' });
    const nEdges = Object.keys(res.edgeScores).length;
    const kRanks = [0, 1, 2, 3].map((h) => rankOf(res, `${prev}->a1.${h}<k>`));
    const otherK = [0, 1, 2, 3].flatMap((h) => [0, 1, 2, 3].filter((p) => `a0.${p}` !== prev).map((p) => rankOf(res, `a0.${p}->a1.${h}<k>`)));
    console.log(`eap-ig: ${keyEdge} rank ${rankOf(res, keyEdge)} of ${nEdges}; ${prev} → a1.h<k> ranks ${JSON.stringify(kRanks)}, other L0 → L1<k> best ${Math.min(...otherK)}; circuit ${res.edges.join(', ')}; faithfulness ${res.faithfulness.ratio}`);
    // The model has four redundant induction heads, each with its own logits and V edges (8 edges
    // that rank above any K edge); the K edge of the detected pair must follow in the top 16 (of
    // 81), and every K edge from the previous-token head must beat every K edge from other L0 heads.
    // (The circuit is connected: an edge whose sender's own input edges scored low gets its best input link added.)
    expect(rankOf(res, keyEdge)).toBeGreaterThan(0);
    expect(rankOf(res, keyEdge)).toBeLessThanOrEqual(16);
    expect(Math.max(...kRanks)).toBeLessThan(Math.min(...otherK));
  }, 600_000);

  it('ACDC keeps prev-token head → every induction head (K) and ranks the detected pair among its top edges', () => {
    const res = acdc(model, { ...task, threshold: 0.05, quiet: true });
    const kRanks = [0, 1, 2, 3].map((h) => rankOf(res, `${prev}->a1.${h}<k>`));
    console.log(`acdc: ${keyEdge} rank ${rankOf(res, keyEdge)}; ${prev} → a1.h<k> ranks ${JSON.stringify(kRanks)}; kept ${res.edges.join(', ')}; faithfulness ${res.faithfulness.ratio}; passes ${res.forwardPasses}`);
    // Four redundant induction heads: top 16 of 81 edges, as for EAP.
    for (let h = 0; h < 4; h++) expect(res.edges).toContain(`${prev}->a1.${h}<k>`);
    expect(rankOf(res, keyEdge)).toBeLessThanOrEqual(16);
  });
});
