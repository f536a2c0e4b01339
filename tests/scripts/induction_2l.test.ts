/**
 * induction-2l works anywhere in its window (issue 17, part 6), a cheap version of the acceptance in
 * scripts/eval_induction.ts: with L = 20, the second-repeat loss is ≤ 0.5 nats for segment starts
 * at the beginning, middle and end of the window and after a 60-token random prefix; the layer-0
 * previous-token head attends ≥ 0.7 to the previous token at early and late positions. Plus the
 * unit behaviour of the placed-repeat data generator.
 * The model checks run on the shipped checkpoint, or on the one INDUCTION_2L_MODEL names (an alias or
 * folder, e.g. a candidate being trained). Each start's loss is a mean over 16 random rows, as in
 * scripts/eval_induction.ts (fewer rows make it hinge on the odd row that repeats a token by chance).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/backend.js';
import { HookedTransformer } from '../../src/model/hooked_transformer.js';
import { seededRng } from '../../src/utils/rng.js';
import { lastStart, placedRepeatBatch, placedRepeatRow, secondRepeatPositions } from '../../scripts/lib/induction_data.js';
import { prevTokenByPosition, secondRepeatLoss } from '../../scripts/lib/induction_eval.js';

const RANGE = { low: 1000, high: 3000, bos: 50256 };
const MODEL = process.env['INDUCTION_2L_MODEL'] ?? 'induction-2l';

describe('placed-repeat data', () => {
  it('puts BOS, the prefix, the segment twice and a random tail in an n_ctx row', () => {
    const row = placedRepeatRow(seededRng(0), { start: 5, segLen: 3 }, { nCtx: 16, ...RANGE });
    expect(row).toHaveLength(16);
    expect(row[0]).toBe(50256);
    expect(row.slice(5, 8)).toEqual(row.slice(8, 11));
    expect(row.slice(1).every((t) => t >= 1000 && t < 3000)).toBe(true);
    expect(secondRepeatPositions({ start: 5, segLen: 3 })).toEqual([8, 9]); // predicting r₂, r₃ at 9, 10
  });

  it('allows starts 1 … n_ctx − 2L and refuses the rest', () => {
    expect(lastStart(128, 20)).toBe(88);
    expect(placedRepeatRow(seededRng(0), { start: 88, segLen: 20 }, { nCtx: 128, ...RANGE })).toHaveLength(128);
    expect(() => placedRepeatRow(seededRng(0), { start: 89, segLen: 20 }, { nCtx: 128, ...RANGE })).toThrow(/start must be in \[1, 88\]/);
    expect(() => placedRepeatRow(seededRng(0), { start: 0, segLen: 20 }, { nCtx: 128, ...RANGE })).toThrow(RangeError);
  });

  it('draws L and the start per row within bounds', () => {
    const { rows, places } = placedRepeatBatch(seededRng(1), { batch: 64, nCtx: 128, segMin: 3, segMax: 40, ...RANGE });
    places.forEach((at, b) => {
      expect(at.segLen).toBeGreaterThanOrEqual(3);
      expect(at.segLen).toBeLessThanOrEqual(40);
      expect(at.start).toBeGreaterThanOrEqual(1);
      expect(at.start).toBeLessThanOrEqual(lastStart(128, at.segLen));
      const r = rows[b] as number[];
      expect(r.slice(at.start, at.start + at.segLen)).toEqual(r.slice(at.start + at.segLen, at.start + 2 * at.segLen));
    });
  });
});

describe('induction-2l anywhere in its window', () => {
  let model: HookedTransformer;
  beforeAll(async () => {
    await initBackend(undefined, { quiet: true });
    model = await HookedTransformer.fromPretrained(MODEL, { quiet: true });
  });
  afterAll(() => model.dispose());

  it.each([1, 30, 61, 88])('second-repeat loss ≤ 0.5 nats with L = 20 at start %i (61 = after BOS + 60 random tokens)', (start) => {
    const loss = secondRepeatLoss(model, seededRng(start), { start, segLen: 20 }, { nCtx: model.cfg.nCtx, ...RANGE }, 16);
    expect(loss).toBeLessThanOrEqual(0.5);
  });

  it('layer-0 head 2 attends ≥ 0.7 to the previous token early and late in the window', () => {
    const rand = seededRng(7);
    const rows = Array.from({ length: 8 }, () => [RANGE.bos, ...Array.from({ length: 127 }, () => 1000 + Math.floor(rand() * 2000))]);
    const prev = prevTokenByPosition(model, rows)[2] as number[];
    for (const p of [1, 16, 40, 64, 96, 120, 126, 127]) expect(prev[p], `position ${p}`).toBeGreaterThanOrEqual(0.7);
  });
});
