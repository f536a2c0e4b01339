/**
 * No leak through the encoder: the benchmark-free corpus (distilbert-mini's and llama-mini's
 * training text) holds none of the probe benchmark's dev/test texts, for seeds 0–2, and the
 * distilbert-mini card records the check with 0 found.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { benchmarkFreeCorpus } from '../../scripts/lib/benchmark_free_corpus.js';
import { loadProbeSplits, normaliseProbeText } from '../../src/probe/probe_splits.js';
import { PROBE_DATASETS } from '../../src/probe/text_datasets.js';

describe('benchmark exclusion', () => {
  it('no dev or test text of any dataset and seed is in the LM training text', async () => {
    const c = await benchmarkFreeCorpus({ heldOut: 0.05, seed: 0 });
    const seen = new Set([...c.train, ...c.heldout].map(normaliseProbeText));
    expect(seen.size).toBeGreaterThan(1000);
    for (const name of PROBE_DATASETS) {
      for (const seed of [0, 1, 2]) {
        const s = await loadProbeSplits(name, { seed });
        const leaked = [...s.dev.texts, ...s.test.texts, ...s.train.texts].filter((t) => seen.has(normaliseProbeText(t)));
        expect(leaked).toEqual([]);
      }
    }
  }, 120_000);

  it('the distilbert-mini card states 0 benchmark dev/test texts in its training text', () => {
    expect(readFileSync('models/distilbert-mini/MODEL_CARD.md', 'utf8')).toMatch(/\*\*0 of [\d,]+ benchmark dev\/test texts occur in the training text\.\*\*/);
  });
});
