/**
 * Few-shot detection with one API for two methods ({@link fitFewShot}):
 * - 'knn': similarity-weighted kNN over a model's pooled activations (`extractPooledFeatures`;
 *   encoders and decoders): weights softmax(cos / τ) over the most similar labelled examples
 *   (cosine after centring on the labelled examples' mean), score = the anomalous examples' weight;
 * - 'prompt' (causal LMs): a few-shot prompt of the labelled examples most similar to the query (same
 *   pooled features), scored by the label words' log-probabilities, score = softmax over the two.
 * Both give an anomaly probability in [0, 1]; the threshold is 0.5 or, with `threshold: 'support'`,
 * the F1-maximising threshold on leave-one-out scores of the labelled examples (no other labels).
 */
import { ConfigError, DatasetError, TokenizerError } from '../errors.js';
import { HookedTransformer } from '../model/hooked_transformer.js';
import { extractPooledFeatures, type PoolingModel } from '../probe/features.js';
import type { FeatureMatrix } from '../probe/matrix.js';
import { maxF1Threshold } from '../probe/metrics.js';
import { seededRng } from '../utils/rng.js';
import { cosineSimilarities, knnVote, rankBySimilarity } from './fewshot_knn.js';
import { buildFewShotPrompt, labelLogProbs, labelSoftmax, labelTokenIds, type FewShotExample, type PromptTemplate } from './fewshot_prompt.js';

/** Few-shot method. @category Anomaly */
export type FewShotMethod = 'knn' | 'prompt';

/** Options of {@link fitFewShot}. @category Anomaly */
export interface FewShotOptions {
  /** 'knn' (any encoder or decoder) or 'prompt' (a HookedTransformer with a tokenizer). */
  readonly method: FewShotMethod;
  /** Hook whose mask-mean pooled activation gives the features (default: the last layer's `hook_normalized_resid_post` for encoders, `hook_resid_post` for decoders). */
  readonly hook?: string;
  /** Model the similarity features come from (default: the scored model). */
  readonly featureModel?: PoolingModel;
  /** kNN: most similar examples that vote (default all). */
  readonly neighbours?: number;
  /** kNN: softmax temperature over cosine similarities (default 0.1). */
  readonly temperature?: number;
  /** Centre features on the labelled examples' mean before the cosine (default true). */
  readonly center?: boolean;
  /** Prompt: most similar examples offered to the prompt (default all; fewer may fit n_ctx). */
  readonly shots?: number;
  /** Prompt: cut each labelled example's text to its first N tokens so that more examples fit (default: no cut; the query is never cut). */
  readonly exampleMaxTokens?: number;
  /** Prompt: words of label 0 and label 1 (default ['normal', 'anomaly']). */
  readonly labelWords?: readonly [string, string];
  /** Prompt: prefixes and separator. */
  readonly template?: PromptTemplate;
  /** Threshold of `predict`: a number, or 'support' (F1-maximising on leave-one-out support scores); default 0.5. */
  readonly threshold?: number | 'support';
  /** Tokens per text for the features (default 128). */
  readonly maxLength?: number;
  /** Texts per forward pass (default 16). */
  readonly batchSize?: number;
}

/** A score with what produced it. @category Anomaly */
export interface FewShotScore {
  /** Anomaly probability in [0, 1]. */
  readonly score: number;
  /** Prompt: examples that fit in the prompt; kNN: examples that voted. */
  readonly shots: number;
  /** Prompt: [log p(label 0), log p(label 1)]. */
  readonly labelLogProbs?: readonly [number, number];
}

/** A fitted few-shot detector. @category Anomaly */
export interface FewShotDetector {
  /** Method. */
  readonly method: FewShotMethod;
  /** Hook of the similarity features. */
  readonly hook: string;
  /** Threshold of {@link FewShotDetector.predict} (flag score > threshold). */
  readonly threshold: number;
  /** Leave-one-out scores of the labelled examples (each scored from the others; NaN for a text too long to be a prompt's query). */
  readonly supportScores: readonly number[];
  /** Anomaly probabilities. */
  score(texts: readonly string[]): number[];
  /** Scores with shot counts (and label log-probabilities for prompts). */
  scoreDetailed(texts: readonly string[]): FewShotScore[];
  /** 1 = anomalous (score > threshold), 0 = normal. */
  predict(texts: readonly string[]): (0 | 1)[];
}

/**
 * The default feature hook of a model: the last layer's output.
 * @param model Encoder or decoder.
 * @returns `blocks.{L-1}.hook_normalized_resid_post` (encoders) or `blocks.{L-1}.hook_resid_post` (decoders).
 * @category Anomaly
 */
export function defaultFewShotHook(model: PoolingModel): string {
  const last = model.cfg.nLayers - 1;
  return model instanceof HookedTransformer ? `blocks.${last}.hook_resid_post` : `blocks.${last}.hook_normalized_resid_post`;
}

function checkExamples(examples: readonly FewShotExample[]): void {
  const fn = 'fitFewShot';
  if (examples.length < 2) throw new DatasetError(`${fn}: ${examples.length} labelled examples — give at least one of each class`);
  examples.forEach((e, i) => {
    if (e.label !== 0 && e.label !== 1) throw new DatasetError(`${fn}: example ${i} has label ${String(e.label)} — expected 0 (normal) or 1 (anomalous)`);
  });
  if (!examples.some((e) => e.label === 1) || !examples.some((e) => e.label === 0)) throw new DatasetError(`${fn}: the labelled examples hold one class only — give at least one normal (0) and one anomalous (1)`);
}

function checkOptions(o: FewShotOptions): void {
  const fn = 'fitFewShot';
  if (o.method !== 'knn' && o.method !== 'prompt') throw new ConfigError(`${fn}: unknown method '${String(o.method)}' — expected 'knn' or 'prompt'`);
  if (o.shots !== undefined && !(Number.isInteger(o.shots) && o.shots >= 0)) throw new ConfigError(`${fn}: shots must be a non-negative integer, got ${o.shots}`);
  if (o.exampleMaxTokens !== undefined && !(Number.isInteger(o.exampleMaxTokens) && o.exampleMaxTokens >= 1)) throw new ConfigError(`${fn}: exampleMaxTokens must be a positive integer, got ${o.exampleMaxTokens}`);
  if (typeof o.threshold === 'number' && !Number.isFinite(o.threshold)) throw new ConfigError(`${fn}: threshold must be finite or 'support'`);
}

/** Scoring of queries given their similarities to the support rows (`exclude`: a support row left out). */
type Scorer = (texts: readonly string[], sims: number[][], exclude: number | undefined) => FewShotScore[];

function knnScorer(labels: readonly number[], o: FewShotOptions): Scorer {
  return (_texts, sims, exclude) => sims.map((s) => {
    const keep = s.map((_, i) => i).filter((i) => i !== exclude);
    const voters = Math.min(o.neighbours ?? keep.length, keep.length);
    const score = knnVote(keep.map((i) => s[i] as number), keep.map((i) => labels[i] as number), { ...(o.neighbours === undefined ? {} : { neighbours: voters }), temperature: o.temperature ?? 0.1 });
    return { score, shots: voters };
  });
}

function promptScorer(model: PoolingModel, examples: readonly FewShotExample[], o: FewShotOptions): Scorer {
  if (!(model instanceof HookedTransformer)) throw new ConfigError("fitFewShot: method 'prompt' needs a causal LM (HookedTransformer); use method 'knn' for encoders");
  const tok = model.tokenizer;
  if (tok === undefined) throw new TokenizerError("fitFewShot: method 'prompt' needs the model's tokenizer (load the model with its tokenizer folder)");
  const encode = (t: string): number[] => tok.encode(t);
  const words = o.labelWords ?? ['normal', 'anomaly'];
  const labelIds = labelTokenIds(encode, words);
  const bos = model.cfg.defaultPrependBos === false ? undefined : (tok.bosTokenId ?? model.cfg.bosTokenId);
  const budget = { nCtx: model.cfg.nCtx, bos, labelTokens: Math.max(labelIds[0].length, labelIds[1].length) };
  const cut = o.exampleMaxTokens;
  const shown = cut === undefined ? examples : examples.map((e) => {
    const ids = encode(e.text);
    return ids.length <= cut ? e : { ...e, text: tok.decode(ids.slice(0, cut)) };
  });
  return (texts, sims, exclude) => {
    const built = texts.map((q, k) => {
      const ranked = rankBySimilarity(sims[k] as number[]).filter((i) => i !== exclude).slice(0, o.shots ?? examples.length);
      return buildFewShotPrompt(encode, q, ranked.map((i) => shown[i] as FewShotExample), words, budget, o.template ?? {});
    });
    const lps = labelLogProbs(model, built.map((b) => b.ids), labelIds, o.batchSize ?? 16);
    return lps.map((lp, k) => ({ score: labelSoftmax(lp), shots: (built[k] as { shots: number }).shots, labelLogProbs: [lp[0] as number, lp[1] as number] as const }));
  };
}

/**
 * Fit a few-shot detector on labelled examples (k per class, e.g. 8 + 8).
 * @param model Scored model: any encoder or decoder for 'knn', a causal LM with a tokenizer for 'prompt'.
 * @param examples Labelled texts (1 = anomalous); both classes needed.
 * @param opts Method, feature hook, kNN / prompt settings, threshold.
 * @returns The detector (plain arrays only: nothing to dispose).
 * @throws {@link "tfjs-lens"!DatasetError} for fewer than one example per class or a bad label;
 *   {@link "tfjs-lens"!ConfigError} for an unknown method, 'prompt' on an encoder or bad options;
 *   {@link "tfjs-lens"!TokenizerError} for a model without a tokenizer; at scoring time,
 *   {@link "tfjs-lens"!ConfigError} when a query alone does not fit n_ctx.
 * @example
 * const det = fitFewShot(llama, support, { method: 'prompt', labelWords: ['ham', 'spam'] });
 * det.score(['WIN a free prize now!'])  // [0.83]
 * @category Anomaly
 */
export function fitFewShot(model: PoolingModel, examples: readonly FewShotExample[], opts: FewShotOptions): FewShotDetector {
  checkExamples(examples);
  checkOptions(opts);
  const fm = opts.featureModel ?? model;
  const hook = opts.hook ?? defaultFewShotHook(fm);
  const extract = (texts: readonly string[]): FeatureMatrix => extractPooledFeatures(fm, texts, {
    hookName: hook, ...(opts.maxLength === undefined ? {} : { maxLength: opts.maxLength }), ...(opts.batchSize === undefined ? {} : { batchSize: opts.batchSize }),
  });
  const support = extract(examples.map((e) => e.text));
  const labels = examples.map((e) => e.label);
  const center = opts.center ?? true;
  const scorer = opts.method === 'knn' ? knnScorer(labels, opts) : promptScorer(model, examples, opts);
  // Leave-one-out: each labelled example scored from the others (similarities to itself excluded).
  const supportSims = cosineSimilarities(support, support, center);
  // A labelled text too long to be a prompt's query on its own gets NaN (it is left out of the threshold).
  const supportScores = examples.map((e, i) => {
    try {
      return (scorer([e.text], [supportSims[i] as number[]], i)[0] as FewShotScore).score;
    } catch (err) {
      if (opts.method === 'prompt' && err instanceof ConfigError) return NaN;
      throw err;
    }
  });
  let threshold = 0.5;
  if (typeof opts.threshold === 'number') threshold = opts.threshold;
  else if (opts.threshold === 'support') {
    const ok = supportScores.map((_, i) => i).filter((i) => Number.isFinite(supportScores[i]));
    threshold = maxF1Threshold(ok.map((i) => supportScores[i] as number), ok.map((i) => labels[i] as 0 | 1)).threshold;
  }
  const scoreDetailed = (texts: readonly string[]): FewShotScore[] => {
    if (texts.length === 0) return [];
    return scorer(texts, cosineSimilarities(extract(texts), support, center), undefined);
  };
  return {
    method: opts.method, hook, threshold, supportScores,
    scoreDetailed,
    score: (texts) => scoreDetailed(texts).map((s) => s.score),
    predict: (texts) => scoreDetailed(texts).map((s) => (s.score > threshold ? 1 : 0)),
  };
}

/**
 * Draw k labelled examples per class, seeded (for few-shot experiments).
 * @param rows Labelled rows (1 = anomalous).
 * @param k Examples per class.
 * @param seed Seed of the draw.
 * @returns 2k examples (normal ones first), and the indices drawn.
 * @throws {@link "tfjs-lens"!DatasetError} if a class has fewer than k rows.
 * @category Anomaly
 */
export function drawFewShot(rows: readonly FewShotExample[], k: number, seed: number): {
  /** The drawn examples, normal ones first. */
  examples: FewShotExample[];
  /** Their indices in `rows`. */
  indices: number[];
} {
  const r = seededRng(seed);
  const indices: number[] = [];
  for (const cls of [0, 1] as const) {
    const idx = rows.map((x, i) => (x.label === cls ? i : -1)).filter((i) => i >= 0);
    if (idx.length < k) throw new DatasetError(`drawFewShot: class ${cls} has ${idx.length} rows, fewer than k = ${k}`);
    for (let i = idx.length - 1; i > 0; i--) {
      const j = Math.floor(r() * (i + 1));
      [idx[i], idx[j]] = [idx[j] as number, idx[i] as number];
    }
    indices.push(...idx.slice(0, k));
  }
  return { examples: indices.map((i) => rows[i] as FewShotExample), indices };
}
