/**
 * Language-model training text that no benchmark evaluates. The excluded set is read through the
 * probe benchmark's own loader (`loadProbeDataset`, src/probe/text_datasets.ts) with unlimited caps,
 * so it holds every text any `probe` run can sample for training, validation or test, whatever its
 * `--max-samples`, `--max-test` or `--seed`: SMS ham and spam of both splits, the IMDB train-subset
 * positives and the whole IMDB test subset, the AG News test rows of both seeded halves that the
 * benchmark reads, and LIAR. LIAR (valid split included) is never a source. A candidate is dropped
 * when its whitespace/case-normalised text equals an excluded one, and repeated texts are kept once.
 */
import { loadAgNews, loadImdb, loadLiar, loadSmsSpam } from '../../src/data/corpora.js';
import { seededSplit } from '../../src/data/split.js';
import { normaliseProbeText } from '../../src/probe/probe_splits.js';
import { loadProbeDataset, PROBE_DATASETS } from '../../src/probe/text_datasets.js';

/** How many rows of one source were read, dropped and kept. */
export interface SourceCount {
  /** Corpus and split, e.g. 'AG News test.csv'. */
  readonly source: string;
  /** Rows read. */
  readonly rows: number;
  /** Dropped: the text (normalised) is one a benchmark reads. */
  readonly benchmark: number;
  /** Dropped: the same text (normalised) was already kept. */
  readonly duplicate: number;
  /** Kept as training or held-out documents. */
  readonly kept: number;
}

/** The documents and how they were chosen. */
export interface BenchmarkFreeCorpus {
  /** Training documents. */
  readonly train: string[];
  /** Held-out documents (seeded), for perplexity. */
  readonly heldout: string[];
  /** Per-source counts. */
  readonly sources: SourceCount[];
  /** Distinct normalised texts read by the benchmark (plus every LIAR statement). */
  readonly excludedTexts: number;
}

/** `<br />` → space (as the benchmark reads IMDB), runs of spaces → one. */
export const cleanText = (t: string): string => t.replace(/<br\s*\/?>/gi, ' ').replace(/ {2,}/g, ' ').trim();

/** The key two texts are "the same" under (the probe benchmark's own dedup key): HTML breaks removed, lower case, whitespace collapsed. */
export const normaliseText = normaliseProbeText;

/** Every text the probe benchmark can read (unlimited caps), and all of LIAR, normalised. */
async function excludedTexts(): Promise<Set<string>> {
  const out = new Set<string>();
  for (const name of PROBE_DATASETS) {
    const ds = await loadProbeDataset(name, { maxTrain: Number.MAX_SAFE_INTEGER, maxTest: Number.MAX_SAFE_INTEGER });
    for (const t of [...ds.trainTexts, ...ds.testTexts]) out.add(normaliseText(t));
  }
  for (const split of ['train', 'valid', 'test'] as const) for (const r of await loadLiar(split)) out.add(normaliseText(r.text));
  return out;
}

/**
 * Collect the documents and split off a seeded held-out part.
 * @param opts heldOut fraction (e.g. 0.05) and split seed.
 * @returns Training and held-out documents (cleaned) with per-source counts.
 */
export async function benchmarkFreeCorpus(opts: { heldOut: number; seed: number }): Promise<BenchmarkFreeCorpus> {
  const excluded = await excludedTexts();
  const candidates: [string, string[]][] = [
    ['SMS Spam Collection (all rows)', (await loadSmsSpam()).map((r) => r.text)],
    ['AG News train_head581.csv', (await loadAgNews('train')).map((r) => r.text)],
    ['AG News test.csv', (await loadAgNews('test')).map((r) => r.text)],
    ['IMDB train subset', (await loadImdb('train')).map((r) => r.text)],
    ['IMDB test subset', (await loadImdb('test')).map((r) => r.text)],
  ];
  const seen = new Set<string>();
  const docs: string[] = [];
  const sources = candidates.map(([source, texts]): SourceCount => {
    let benchmark = 0;
    let duplicate = 0;
    for (const t of texts) {
      const k = normaliseText(t);
      if (excluded.has(k)) benchmark++;
      else if (seen.has(k)) duplicate++;
      else {
        seen.add(k);
        docs.push(cleanText(t));
      }
    }
    return { source, rows: texts.length, benchmark, duplicate, kept: texts.length - benchmark - duplicate };
  });
  const { train, test } = seededSplit(docs, { testFraction: opts.heldOut, seed: opts.seed });
  return { train, heldout: test, sources, excludedTexts: excluded.size };
}
