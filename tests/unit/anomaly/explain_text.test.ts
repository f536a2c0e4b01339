/**
 * The one-line explanation and the token page: top positive tokens named in order, special tokens and
 * word-piece markers handled; the page has its title, the score and the method, and a diverging colour
 * scale centred at 0 with a symmetric range.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { explanationLine, readableToken, topTokenPositions } from '../../../src/anomaly/explain_text.js';
import type { TokenAttribution } from '../../../src/anomaly/explain.js';
import { ShapeError } from '../../../src/errors.js';
import { tokenExplanationFigures, writeTokenExplanation } from '../../../src/viz/token_explanation.js';

const dir = mkdtempSync(join(tmpdir(), 'explain-text-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const tokens = ['[CLS]', 'free', 'tx', '##t', 'to', 'claim', '[SEP]'];
const attr: TokenAttribution = { method: 'integrated_gradients', ids: [101, 1, 2, 3, 4, 5, 102], attributions: [5, 2.0, 0.5, 1.5, -1, 1.0, 9], score: 2.6 };

describe('explanationLine', () => {
  it('names the largest positive attributions, skipping [CLS]/[SEP], in order', () => {
    expect(topTokenPositions(attr, tokens, 3)).toEqual([1, 3, 5]);
    expect(explanationLine(attr, tokens, { shownScore: 0.93 })).toBe("anomaly score 0.93 — unusual pattern in: 'free', 't', 'claim' (integrated_gradients)");
    expect(readableToken('Ġhello')).toBe('hello');
    expect(explanationLine({ ...attr, attributions: attr.attributions.map(() => -1) }, tokens)).toMatch(/no token pushes the score up/);
  });
});

describe('writeTokenExplanation', () => {
  it('writes a titled page with the score, the method and a symmetric diverging scale centred at 0', () => {
    const p = writeTokenExplanation(join(dir, 'ex.html'), tokens, [{ method: 'gradient × input', values: [0, 2, -0.5, 1, -3, 0.2, 0] }], {
      title: 'Why spam?', score: 2.6, scoreName: 'logit(spam) − logit(ham)', summary: explanationLine(attr, tokens), plotly: 'inline',
    });
    const html = readFileSync(p, 'utf8');
    expect(html).toContain('<title>Why spam?</title>');
    expect(html).toContain('logit(spam) − logit(ham)');
    expect(html).toContain('gradient × input');
    const fig = tokenExplanationFigures(tokens, [{ method: 'm', values: [0, 2, -0.5, 1, -3, 0.2, 0] }])[0];
    const trace = fig?.data[0] as Record<string, unknown>;
    expect(trace['zmid']).toBe(0);
    expect(trace['zmin']).toBe(-3);
    expect(trace['zmax']).toBe(3);
    expect(trace['colorscale']).toBe('RdBu');
    expect(() => tokenExplanationFigures(tokens, [{ method: 'm', values: [1] }])).toThrow(ShapeError);
  });
});
