/**
 * A hand-built induction circuit (previous-token head a0.0, induction head a1.1 reading a0.0 through
 * its key): node pruning keeps both heads; ACDC recovers exactly the five induction edges, including
 * the K-composition edge a0.0 → a1.1<k>. (Plain EAP misses that edge here: the hand-set attention is
 * saturated, so its gradient vanishes — the known weakness of linear attribution.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/backend/backend.js';
import { acdc } from '../../../src/circuits/acdc.js';
import { iterativePruning } from '../../../src/circuits/prune.js';
import { detectHead } from '../../../src/evals/head_detector.js';
import { plantedInductionModel, type PlantedInduction } from '../../helpers/planted_induction.js';

let planted: PlantedInduction;

beforeAll(async () => {
  await initBackend(undefined, { quiet: true });
  planted = plantedInductionModel();
});
afterAll(() => planted?.model.dispose());

describe('planted induction circuit', () => {
  it('the head detector names a0.0 (previous token) and a1.1 (induction)', () => {
    const rows = planted.task.prompts.slice(0, 2).map((r) => [...r]);
    const prev = detectHead(planted.model, rows, 'previous_token_head');
    const ind = detectHead(planted.model, rows, 'induction_head');
    expect(prev[0]?.[0]).toBeGreaterThan(0.9);
    expect(ind[1]?.[1]).toBeGreaterThan(Math.max(ind[1]?.[0] ?? 1, 0.4));
  });

  it('pruning keeps a0.0 and a1.1; ACDC keeps exactly the induction edges', () => {
    const { model, task } = planted;
    const pruned = iterativePruning(model, { ...task, threshold: 0.5, quiet: true });
    expect(pruned.nodes).toEqual(['input', 'a0.0', 'a1.1', 'logits']);
    const res = acdc(model, { ...task, threshold: 0.05, quiet: true });
    // The induction edges, plus the input links of a0.0's q and k inputs ('channel' closure of a connected circuit).
    expect(res.edges).toEqual(['input->a0.0<q>', 'input->a0.0<k>', 'input->a0.0<v>', 'input->a1.1<q>', 'a0.0->a1.1<k>', 'input->a1.1<v>', 'a1.1->logits']);
    expect(res.faithfulness.ratio).toBeCloseTo(1, 4);
  });
});
