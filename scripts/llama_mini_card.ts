/**
 * MODEL_CARD.md of `models/llama-mini`, written by scripts/train_llama_mini.ts from the figures of
 * the run that produced the weights.
 */
import { writeFileSync } from 'node:fs';
import { arch, cpus, platform } from 'node:os';
import type { BackendInfo } from '../src/backend/backend.js';
import { kvHeads, type ModelConfig } from '../src/model/config.js';
import type { SourceCount } from './lib/benchmark_free_corpus.js';

/** Figures of one training run. */
export interface LlamaMiniFacts {
  readonly cfg: ModelConfig;
  /** The HF config fields the run chose. */
  readonly hf: Record<string, unknown>;
  readonly steps: number;
  readonly batch: number;
  readonly ctx: number;
  readonly lr: number;
  readonly warmup: number;
  readonly seed: number;
  readonly initStd: number;
  readonly backend: BackendInfo;
  readonly sources: readonly SourceCount[];
  readonly excludedTexts: number;
  readonly trainDocs: number;
  readonly heldoutDocs: number;
  readonly trainTokens: number;
  readonly chars: number;
  readonly merges: number;
  readonly roundTripFailures: number;
  readonly roundTripDocs: number;
  readonly trainSeconds: number;
  readonly totalSeconds: number;
  readonly finalTrainLoss: number;
  /** Held-out loss (nats/token) of the saved model and of the add-one unigram, on the same tokens. */
  readonly heldout: { model: number; unigram: number; tokens: number; windows: number };
  readonly samples: readonly { prompt: string; text: string }[];
  readonly sizeBytes: number;
  /** Steps at which the held-out windows were scored: that step's training loss and held-out loss. */
  readonly curve: readonly { step: number; train: number; heldout: number }[];
}

const n = (x: number): string => x.toLocaleString('en');

/** Parameters of a Llama config (untied unembedding, no biases). */
export function llamaParamCount(c: ModelConfig): number {
  const kv = kvHeads(c) * c.dHead;
  const hd = c.nHeads * c.dHead;
  const block = 2 * c.dModel + c.dModel * hd + 2 * c.dModel * kv + hd * c.dModel + 3 * c.dModel * c.dMlp;
  return 2 * c.dVocab * c.dModel + c.nLayers * block + c.dModel;
}

function dataSection(f: LlamaMiniFacts): string {
  const rows = f.sources.map((s) => `| ${s.source} | ${n(s.rows)} | ${n(s.benchmark)} | ${n(s.duplicate)} | ${n(s.kept)} |`).join('\n');
  const kept = f.sources.reduce((a, s) => a + s.kept, 0);
  return `## Data

Only text that no benchmark evaluates (\`scripts/lib/benchmark_free_corpus.ts\`). The excluded set
is read through the probe benchmark's own loader (\`loadProbeDataset\` in \`src/probe/text_datasets.ts\`,
which \`npm start\` / \`tfjs-lens probe\` runs) with unlimited caps, so it holds every text any probe run
can sample as training, validation (dev) or test row, whatever its \`--max-samples\`, \`--max-test\` or
\`--seed\`: SMS ham and spam of both splits (ham of the 80% split is the normal pool, ham of the 20%
split and all spam the test set), the IMDB train-subset positives (normal pool) and the whole IMDB
test subset (test set), the AG News test.csv rows the benchmark reads (World rows of the seeded
training half; every row of the test half), and **all of LIAR** (train, valid and test). LIAR is
never a source. ${n(f.excludedTexts)} distinct excluded texts. A candidate row is dropped when its text, with
\`<br />\` removed, lower-cased and whitespace collapsed, equals an excluded text; repeated texts are kept
once.

| source | rows | dropped: benchmark text | dropped: repeat | kept |
|---|---:|---:|---:|---:|
${rows}
| **total** | ${n(f.sources.reduce((a, s) => a + s.rows, 0))} | | | **${n(kept)}** |

What is left: the IMDB train-subset **negative** reviews, the 581 AG News train rows, and the AG News
test rows of the benchmark's training half that are not World (the benchmark trains on World only).
A seeded 5% (\`seededSplit\`, seed ${f.seed}) is held out: **${n(f.trainDocs)} training and ${n(f.heldoutDocs)} held-out
documents**; ${n(f.trainTokens)} training tokens (${n(f.chars)} characters). IMDB \`<br />\` tags become spaces, as the
benchmark reads them; AG News is title, newline, description. Sources and licences: \`data/README.md\`.`;
}

function resultsSection(f: LlamaMiniFacts): string {
  const h = f.heldout;
  const samples = f.samples.map((s) => `- **${s.prompt}**${s.text.slice(s.prompt.length).replace(/\n/g, '⏎').replace(/<\|endoftext\|>/g, ' *[end of text]*')}`).join('\n');
  return `## Results

Held-out next-token loss of the saved model (loaded with \`fromPretrained\`), on **every token** of the
${n(f.heldoutDocs)} held-out documents (${n(h.tokens)} tokens; each document starts with BOS and is cut into windows of
${f.ctx} tokens that share one token, so the context restarts every ${f.ctx - 1} tokens), against an add-one-smoothed
unigram model of the training tokens on the same tokenizer and the same tokens:

| | nats / token | perplexity |
|---|---:|---:|
| llama-mini | **${h.model.toFixed(3)}** | **${Math.exp(h.model).toFixed(1)}** |
| add-one unigram (training-token counts) | ${h.unigram.toFixed(3)} | ${Math.exp(h.unigram).toFixed(1)} |

Final training loss ${f.finalTrainLoss.toFixed(3)} (one batch). The loss during training (training loss of that
step's batch; held-out loss on a fixed sample of held-out windows, so it differs a little from the
figure above):

| step | training loss (one batch) | held-out loss (sample) |
|---:|---:|---:|
${f.curve.map((c) => `| ${c.step} | ${c.train.toFixed(3)} | ${c.heldout.toFixed(3)} |`).join('\n')}

The plot of the training loss every 25 steps, the held-out loss and the unigram level:
[training_curve.html](training_curve.html) (self-contained Plotly page); every 25th step's metrics
in \`results/train/llama-mini.jsonl\` (written by the script, not shipped).

Greedy continuations (\`model.generate(prompt, { maxNewTokens: 32, temperature: 0 })\`, ⏎ = newline):

${samples}

\`tests/scripts/llama_mini.test.ts\` reloads the folder and checks the held-out loss of
\`heldout_sample.json\` (20 of the held-out documents and the unigram counts) against the unigram
baseline, processed vs unprocessed log-probabilities, and greedy generation with and without the KV cache.`;
}

/**
 * Write the card.
 * @param path Destination (MODEL_CARD.md).
 * @param f Figures of the run.
 */
export function writeLlamaMiniCard(path: string, f: LlamaMiniFacts): void {
  const c = f.cfg;
  const params = llamaParamCount(c);
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  const card = `# llama-mini

A small Llama-architecture causal language model trained from scratch in TypeScript with
tfjs-lens (\`scripts/train_llama_mini.ts\`), with its own byte-level BPE tokenizer, so that the Llama
code path (RMSNorm, rotary positions, grouped-query attention, SwiGLU, the KV cache) can be loaded,
hooked and tested offline. It is a toy: ${n(f.trainTokens)} training tokens of movie reviews and news.

\`\`\`ts
const model = await HookedTransformer.fromPretrained('llama-mini'); // = models/llama-mini
\`\`\`

## Architecture

Hugging Face \`LlamaForCausalLM\` layout (config.json with \`model_type: "llama"\`, safetensors with
\`model.embed_tokens.weight\`, \`model.layers.N.{input_layernorm,post_attention_layernorm}.weight\`,
\`self_attn.{q,k,v,o}_proj.weight\`, \`mlp.{gate,up,down}_proj.weight\` in nn.Linear [out, in] layout,
\`model.norm.weight\`, \`lm_head.weight\`; written by \`scripts/lib/llama_save.ts\`, the inverse of
\`llamaParamsFromHf\`, round-trip tested in \`tests/scripts/llama_save.test.ts\`).

| | |
|---|---|
| layers | ${c.nLayers} |
| d_model | ${c.dModel} |
| attention | ${c.nHeads} query heads, **${kvHeads(c)} key/value heads** (grouped-query), d_head ${c.dHead}, causal, no biases |
| positions | rotary on the whole head, rope_theta ${c.rotaryBase}; context ${c.nCtx} (max_position_embeddings) |
| MLP | SwiGLU: down(silu(gate(x)) ⊙ up(x)), d_mlp ${c.dMlp} |
| norms | RMSNorm before attention, before the MLP and at the end, eps ${c.eps} |
| vocabulary | ${n(c.dVocab)}; unembedding **untied** (\`tie_word_embeddings: false\`) |
| BOS / EOS | \`<|endoftext|>\` = id ${c.bosTokenId} (both) |
| parameters | ${n(params)} (${n(2 * c.dVocab * c.dModel)} in the embedding and unembedding) |
| file | model.safetensors, F32, ${(f.sizeBytes / 1e6).toFixed(2)} MB |

## Tokenizer

Byte-level BPE (GPT-2 scheme) trained here on the training documents only by \`scripts/lib/bpe_train.ts\`
(GPT-2 pre-tokenisation regex, GPT-2 byte-to-unicode alphabet, most frequent pair merged first, ties
to the smallest symbol ids): 256 byte symbols + ${n(f.merges)} merges + \`<|endoftext|>\` = ${n(c.dVocab)} ids,
${(f.chars / f.trainTokens).toFixed(2)} characters per token on the training text. Saved as a standard
\`tokenizer.json\` (ByteLevel pre-tokenizer with GPT-2's regex and no prefix space, BPE model with
vocab + merges, ByteLevel decoder, \`<|endoftext|>\` as a special added token) and \`tokenizer_config.json\`
(bos = eos = \`<|endoftext|>\`). tfjs-lens prepends BOS itself (\`defaultPrependBos\`); the tokenizer adds
no special tokens. Encode → decode gave back the exact text for ${n(f.roundTripDocs - f.roundTripFailures)} of ${n(f.roundTripDocs)} documents.

${dataSection(f)}

## Training

Next-token cross-entropy on all ${f.ctx - 1} positions of rows of ${f.ctx} tokens cut at random offsets from the
training documents packed into one stream (each document preceded by \`<|endoftext|>\`); batch ${f.batch}
rows, ${n(f.steps)} steps (${n(f.steps * f.batch * (f.ctx - 1))} predicted tokens, about
${((f.steps * f.batch * f.ctx) / f.trainTokens).toFixed(1)} passes over the data). Adam (β 0.9/0.999), lr ${f.lr} with ${f.warmup} warm-up steps and
cosine decay to 10%, global-norm clipping 1. Init normal(0, ${f.initStd}) for every matrix (the unembedding
drawn separately from the embedding), RMSNorm weights 1; the biases of the generic decoder params
stay zero and are not trained (HF Llama has none). Seed ${f.seed} for split, init and batch order.
Training loop: \`scripts/lib/lm_training.ts\` (\`makeTrainableDecoder\`, \`nextTokenLossAt\` — the
same forward pass as inference) and \`src/train/trainer.ts\`.

Training took ${(f.trainSeconds / 60).toFixed(1)} min (the whole script, tokenizer and evaluation included,
${(f.totalSeconds / 60).toFixed(1)} min) on ${cpus().length} vCPUs (${cpu}), ${platform()}/${arch()}, Node ${process.versions.node},
tfjs backend ${f.backend.name}${f.backend.simd === true ? ' (SIMD' : ' ('}${f.backend.threadCount !== undefined ? `, ${f.backend.threadCount} thread${f.backend.threadCount === 1 ? '' : 's'})` : ')'}, ${new Date().toISOString().slice(0, 10)}.

${resultsSection(f)}

## Limitations

- A toy: ${n(params)} parameters and ${n(f.trainTokens)} tokens. It writes locally plausible English with
  review and news vocabulary, but repeats itself under greedy decoding and has no knowledge worth the name.
- Two domains only (negative movie reviews and non-World news), so activations on other text, or on
  positive reviews and World news (the benchmark's normal classes, deliberately excluded), are off-distribution.
- Context ${c.nCtx} tokens; no positions beyond it were trained.
- The tokenizer is fitted to this small corpus: rare words split into many pieces.
- Not compared with HF \`transformers\` here (no Python); the layout follows \`LlamaForCausalLM\` and the
  loader's key and shape checks, and tfjs-lens's Llama path has its own parity tests.

## Reproduce

\`\`\`sh
npx tsx scripts/train_llama_mini.ts --steps ${f.steps} --batch ${f.batch} --lr ${f.lr} --seed ${f.seed}   # writes this folder
npx vitest run tests/scripts/llama_mini.test.ts tests/scripts/llama_save.test.ts
\`\`\`
`;
  writeFileSync(path, card);
}
