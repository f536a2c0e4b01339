/**
 * MODEL_CARD.md of `models/distilbert-mini`, written by scripts/train_distilbert_mini.ts from the
 * figures of the run that produced the weights.
 */
import { writeFileSync } from 'node:fs';
import { arch, cpus, platform } from 'node:os';
import type { BackendInfo } from '../src/backend/backend.js';
import type { EncoderConfig } from '../src/model/encoder/encoder_config.js';
import type { UnigramBaselines } from '../src/train/mlm_data.js';

/** How the word embeddings were initialised. */
export interface EmbeddingInit {
  readonly kind: 'random' | 'ppmi';
  /** ppmi: tokens given a PPMI-SVD vector, the window, the rms the vectors were scaled to, and the time taken. */
  readonly kept?: number;
  readonly window?: number;
  readonly rms?: number;
  readonly seconds?: number;
}

/** Held-out accuracy at targets whose input showed `[MASK]`, a random id, or the original token. */
export interface KindAccuracy {
  readonly kind: 'mask' | 'random' | 'kept';
  readonly count: number;
  readonly accuracy: number;
  readonly unigramAccuracy: number;
}

const KIND_TEXT: Record<KindAccuracy['kind'], string> = {
  mask: 'input `[MASK]` (80%)',
  random: 'input replaced by a random id (10%)',
  kept: 'input left unchanged (10%: copying the input suffices)',
};

/** Figures of one training run. */
export interface CardFacts {
  readonly cfg: EncoderConfig;
  readonly steps: number;
  readonly batch: number;
  readonly seqLen: number;
  readonly lr: number;
  readonly seed: number;
  readonly initStd: number;
  readonly embeddings: EmbeddingInit;
  readonly priorBias: boolean;
  readonly seconds: number;
  readonly backend: BackendInfo;
  readonly sources: Record<string, number>;
  readonly tokens: number;
  readonly trainRows: number;
  readonly evalRows: number;
  readonly heldOut: { loss: number; accuracy: number; count: number };
  readonly saved: { loss: number; accuracy: number; count: number };
  readonly base: UnigramBaselines;
  readonly mostFrequentToken: string;
  readonly byKind: readonly KindAccuracy[];
  readonly sizeBytes: number;
  readonly samples: readonly { prompt: string; top5: string[] }[];
  /** Distinct benchmark texts the corpus builder excluded. */
  readonly excludedTexts?: number;
  /** The exclusion check against the probe benchmark's actual dev/test splits (scripts/distilbert_mini_exclusion.ts). */
  readonly exclusion?: ExclusionCheck;
}

/** Benchmark texts found in the training text, per dataset, over the checked seeds. */
export interface ExclusionCheck {
  /** Seeds whose splits were checked. */
  readonly seeds: readonly number[];
  /** Per dataset: distinct dev/test texts checked, and how many of them occur in the training text. */
  readonly datasets: readonly { name: string; devTest: number; devTestFound: number; train: number; trainFound: number }[];
  /** Documents of the training text (train + held-out) searched. */
  readonly documents: number;
}

function exclusionSection(f: CardFacts): string {
  const e = f.exclusion;
  if (e === undefined) return '';
  const found = e.datasets.reduce((a, d) => a + d.devTestFound, 0);
  const total = e.datasets.reduce((a, d) => a + d.devTest, 0);
  return `
**Benchmark exclusion, checked.** \`scripts/distilbert_mini_exclusion.ts\` rebuilds the probe benchmark's
train/dev/test splits (\`loadProbeSplits\`, seeds ${e.seeds.join(', ')}, the default sizes) and searches the
${e.documents.toLocaleString('en')} documents of this model's training text (training and held-out parts, which the PPMI
embedding init also read) for each text (case/whitespace-normalised exact match):
**${found} of ${total.toLocaleString('en')} benchmark dev/test texts occur in the training text.**

| dataset | distinct dev + test texts (all seeds) | in the training text | probe-train texts | in the training text |
|---|---|---|---|---|
${e.datasets.map((d) => `| ${d.name} | ${d.devTest.toLocaleString('en')} | ${d.devTestFound} | ${d.train.toLocaleString('en')} | ${d.trainFound} |`).join('\n')}
`;
}

/** How the word embeddings started, as a clause of the Init sentence. */
function embeddingNote(e: EmbeddingInit, dim: number): string {
  if (e.kind === 'random') return '';
  return `; the word embeddings of the ${(e.kept ?? 0).toLocaleString('en')} tokens seen at least 5 times in the training
documents start as PPMI-SVD word vectors of those documents (positive PMI of co-occurrences within ±${e.window}
tokens, context smoothing 0.75, top-${dim} singular vectors times √σ; Levy, Goldberg & Dagan 2015;
\`scripts/lib/word_vectors.ts\`, ${(e.seconds ?? 0).toFixed(0)} s), scaled to rms ${e.rms}, the other rows random`;
}

const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;

/** A plain statement when the model does not beat the baseline at `[MASK]` inputs. */
function plateauNote(f: CardFacts): string {
  const m = f.byKind.find((k) => k.kind === 'mask');
  if (m === undefined || m.accuracy > m.unigramAccuracy + 0.005) return '';
  return `\n**In this run the model has not yet left the unigram plateau at \`[MASK]\` inputs**: there it
scores ${pct(m.accuracy)}, the same as always predicting '${f.mostFrequentToken}' (${pct(m.unigramAccuracy)}). The overall gain over the
baseline comes from the unchanged positions, where it has learned to copy the input token.\n`;
}

/** Write the model card. */
export function writeModelCard(path: string, f: CardFacts): void {
  const c = f.cfg;
  const nParams = c.dVocab * c.dModel + c.nCtx * c.dModel + 2 * c.dModel
    + c.nLayers * (4 * (c.dModel * c.dModel + c.dModel) + 2 * c.dModel * c.dMlp + c.dMlp + c.dModel + 4 * c.dModel)
    + c.dModel * c.dModel + 3 * c.dModel + c.dVocab;
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  const be = f.backend.name === 'wasm' ? `tfjs-backend-wasm (simd=${f.backend.simd}, threads=${f.backend.threads})` : f.backend.name;
  const text = `# distilbert-mini

A small DistilBERT-architecture masked language model, trained from scratch in TypeScript with
tfjs-lens (\`scripts/train_distilbert_mini.ts\`) so that the package has a real, offline encoder to
demonstrate hooks, caching and patching on. It is a teaching/demo model, not a useful language model.

\`\`\`ts
const enc = await HookedEncoder.fromPretrained('models/distilbert-mini');
const logits = enc.forward('the movie was [MASK].'); // [1, pos, 30522]
\`\`\`

## Architecture

\`DistilBertForMaskedLM\` layout (loads with Hugging Face \`transformers\` too): ${c.nLayers} layers, dim ${c.dModel},
${c.nHeads} heads (d_head ${c.dHead}), hidden_dim ${c.dMlp}, GELU, post-LN, learned positions
(max_position_embeddings ${c.nCtx}), vocabulary ${c.dVocab} (the distilbert-base-uncased / bert-base-uncased
WordPiece vocabulary; tokenizer files included). The MLM projector is tied to the word embeddings,
as in DistilBERT, so \`vocab_projector.weight\` is not stored. ${(nParams / 1e6).toFixed(2)} M parameters, of which
${((c.dVocab * c.dModel) / 1e6).toFixed(2)} M are the word embeddings. Stored as F16 safetensors: ${(f.sizeBytes / 2 ** 20).toFixed(2)} MiB.

## Data

The benchmark-free corpus (\`scripts/lib/benchmark_free_corpus.ts\`, the one llama-mini was trained on):
the corpora shipped in \`data/\` (see \`data/README.md\` for sources and licences) minus every text that
any probe benchmark run can read for training, dev or test (all SMS ham and spam, the IMDB train
positives and the whole IMDB test subset, the AG News World rows and the benchmark's anomaly half
of the AG News test file${f.excludedTexts === undefined ? '' : `: ${f.excludedTexts.toLocaleString('en')} distinct texts`}), and minus all of LIAR; a candidate is dropped
when its case/whitespace-normalised text equals an excluded one, and repeated texts are kept once:

${Object.entries(f.sources).map(([k, n]) => `- ${k} ${n.toLocaleString('en')}`).join('\n')}

IMDB \`<br />\` tags were replaced by spaces; nothing else was cleaned. The documents were tokenised
(${f.tokens.toLocaleString('en')} tokens), a seeded 5% of the **documents** was held out, and each part was packed into
rows of ${f.seqLen} tokens (\`[CLS]\` + 62 tokens of the \`[SEP]\`-joined stream + \`[SEP]\`): ${f.trainRows.toLocaleString('en')} training rows,
${f.evalRows.toLocaleString('en')} held-out rows. The PPMI-SVD embedding init read the training documents only.
${exclusionSection(f)}
## Training

Masked-LM only (no distillation): 15% of non-special tokens chosen, 80% → \`[MASK]\`, 10% → random
id, 10% kept; loss at the chosen positions. Adam (β₂ 0.98, ε 1e-6), peak learning rate ${f.lr}, 5% linear
warm-up then linear decay to 5%, global-norm clipping 1, no dropout, no weight decay. Batch ${f.batch} rows
× ${f.seqLen} tokens, ${f.steps} steps (${((f.steps * f.batch) / f.trainRows).toFixed(2)} epochs), seed ${f.seed}. Init: normal(0, ${String(f.initStd)}), LayerNorm 1/0${embeddingNote(f.embeddings, f.cfg.dModel)}${f.priorBias
    ? `; the output bias (\`vocab_projector.bias\`) starts at the log unigram prior of the training
targets (add-one smoothed), so training starts at the unigram baseline` : ''}.

Wall time: ${(f.seconds / 60).toFixed(1)} min on ${cpu} (${platform()} ${arch()}, 2 cores shared with other jobs),
Node ${process.version}, ${be}. Metrics per step: \`results/train/distilbert-mini.jsonl\` (not shipped).

## Held-out results

${f.heldOut.count.toLocaleString('en')} masked positions of the held-out rows (masking fixed by seed):

| | MLM loss (nats) | masked-token accuracy |
|---|---|---|
| this model (trained weights, F32) | ${f.heldOut.loss.toFixed(3)} | ${pct(f.heldOut.accuracy)} |
| this model as saved (F16) | ${f.saved.loss.toFixed(3)} | ${pct(f.saved.accuracy)} |
| unigram: always predict the most frequent training target ('${f.mostFrequentToken}') | – | ${pct(f.base.mostFrequentAccuracy)} |
| unigram: predict a token sampled from training frequencies (expected) | – | ${pct(f.base.samplingAccuracy)} |
| unigram distribution (add-one smoothed) as the prediction | ${f.base.unigramLoss.toFixed(3)} | – |

By what the input showed at the target:

| target positions | count | this model | always '${f.mostFrequentToken}' |
|---|---|---|---|
${f.byKind.map((k) => `| ${KIND_TEXT[k.kind]} | ${k.count.toLocaleString('en')} | ${pct(k.accuracy)} | ${pct(k.unigramAccuracy)} |`).join('\n')}
${plateauNote(f)}

Top-5 predictions at \`[MASK]\`:

${f.samples.map((s) => `- \`${s.prompt}\` → ${s.top5.map((t) => `\`${t}\``).join(', ')}`).join('\n')}

## Limitations

Tiny and briefly trained (${((f.steps * f.batch) / f.trainRows).toFixed(1)} epochs of ${Math.round(f.tokens / 1000).toLocaleString('en')} thousand tokens of news and movie reviews,
${(f.seconds / 60).toFixed(0)} minutes of CPU): compare its accuracy at \`[MASK]\` inputs with the
baseline in the table above before relying on it: early in masked-LM training the gain over the
unigram baseline comes from the unchanged positions (copying the input), and predictions at
\`[MASK]\` stay on frequent tokens until the long unigram plateau is left. More steps (\`--steps\`)
are the remedy.
Lower-cased input only. Sequences longer than ${c.nCtx} tokens are not supported.
`;
  writeFileSync(path, text);
}
