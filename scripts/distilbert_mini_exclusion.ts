/**
 * The benchmark-exclusion check of `models/distilbert-mini`: rebuild its training text (the
 * benchmark-free corpus, training and held-out documents, with the run's seed) and the probe
 * benchmark's actual train/dev/test splits (`loadProbeSplits`, default sizes) for the given seeds,
 * count the dev/test texts found in the training text (case/whitespace-normalised exact match), and
 * rewrite MODEL_CARD.md from the run's `run_facts.json` with the counts.
 * Run: npx tsx scripts/distilbert_mini_exclusion.ts [--dir models/distilbert-mini] [--seeds 0,1,2,3,4]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadProbeSplits, normaliseProbeText } from '../src/probe/probe_splits.js';
import { PROBE_DATASETS } from '../src/probe/text_datasets.js';
import { benchmarkFreeCorpus } from './lib/benchmark_free_corpus.js';
import { writeModelCard, type CardFacts, type ExclusionCheck } from './distilbert_mini_card.js';

const { values } = parseArgs({ options: { dir: { type: 'string', default: 'models/distilbert-mini' }, seeds: { type: 'string', default: '0,1,2,3,4' } } });
const dir = values.dir as string;
const seeds = (values.seeds as string).split(',').map(Number);
const facts = JSON.parse(readFileSync(join(dir, 'run_facts.json'), 'utf8')) as CardFacts & { exclusion?: ExclusionCheck };
const corpus = await benchmarkFreeCorpus({ heldOut: 0.05, seed: facts.seed });
const seen = new Set([...corpus.train, ...corpus.heldout].map(normaliseProbeText));
const datasets: ExclusionCheck['datasets'][number][] = [];
for (const name of PROBE_DATASETS) {
  const devTest = new Set<string>();
  const train = new Set<string>();
  for (const seed of seeds) {
    const s = await loadProbeSplits(name, { seed });
    for (const t of [...s.dev.texts, ...s.test.texts]) devTest.add(normaliseProbeText(t));
    for (const t of s.train.texts) train.add(normaliseProbeText(t));
  }
  const found = (set: Set<string>): number => [...set].filter((k) => seen.has(k)).length;
  datasets.push({ name, devTest: devTest.size, devTestFound: found(devTest), train: train.size, trainFound: found(train) });
}
const exclusion: ExclusionCheck = { seeds, datasets, documents: seen.size };
writeFileSync(join(dir, 'run_facts.json'), `${JSON.stringify({ ...facts, exclusion }, null, 1)}\n`);
writeModelCard(join(dir, 'MODEL_CARD.md'), { ...facts, exclusion });
console.log(JSON.stringify(exclusion));
