/**
 * No silent truncation: a text longer than n_ctx is cut with one stderr warning per call stating the
 * tokens cut (TL `truncate` semantics otherwise): `truncate: true` cuts silently, `truncate: false`
 * raises a ShapeError, and TFJS_LENS_QUIET=1 silences the warning.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ShapeError } from '../../../src/errors.js';
import type { HookedTransformer } from '../../../src/model/hooked_transformer.js';
import { tinyGpt2VocabModel } from '../../helpers/tiny_gpt2_vocab.js';

let m: HookedTransformer;
beforeAll(async () => {
  m = await tinyGpt2VocabModel();
});
afterAll(() => m?.dispose());

const LONG = 'word '.repeat(100); // BOS + 101 tokens (the trailing space is one)

function stderrOf(f: () => void): string[] {
  const spy = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    f();
    return spy.mock.calls.map((c) => String(c[0]));
  } finally {
    spy.mockRestore();
  }
}

describe('truncation to n_ctx', () => {
  it('default: cut with one warning per call naming the tokens cut', () => {
    const quiet = process.env['TFJS_LENS_QUIET'];
    delete process.env['TFJS_LENS_QUIET'];
    try {
      let logits: tf.Tensor | undefined;
      const lines = stderrOf(() => {
        logits = m.forward(LONG);
      });
      expect(logits?.shape).toEqual([1, 32, 50257]);
      logits?.dispose();
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/forward: warning: the text exceeded the model's n_ctx 32; cut 70 tokens from the end \[pass truncate: true to cut silently, or truncate: false to raise an error\]/);
      const batch = stderrOf(() => m.toTokens([LONG, LONG, 'short']).dispose());
      expect(batch).toEqual([expect.stringMatching(/^toTokens: warning: 2 texts exceeded the model's n_ctx 32; cut 140 tokens/)]);
      expect(stderrOf(() => m.toTokens('short text').dispose())).toEqual([]);
      expect(stderrOf(() => m.toTokens(LONG, { truncate: true }).dispose())).toEqual([]);
      process.env['TFJS_LENS_QUIET'] = '1';
      expect(stderrOf(() => m.toTokens(LONG).dispose())).toEqual([]);
    } finally {
      if (quiet === undefined) delete process.env['TFJS_LENS_QUIET'];
      else process.env['TFJS_LENS_QUIET'] = quiet;
    }
  });

  it('truncate: false → ShapeError naming the length, n_ctx and the fix', () => {
    expect(() => m.forward(LONG, { truncate: false })).toThrow(ShapeError);
    expect(() => m.forward(LONG, { truncate: false })).toThrow(/sequence length 102 exceeds n_ctx 32 \[truncate: false was passed; shorten the text/);
  });
});
