/**
 * Few-shot prompting of a causal LM for detection: a prompt of labelled examples (the most similar
 * last, next to the query) followed by the query, e.g.
 * `Message: …\nLabel: ham\n\nMessage: …\nLabel: spam\n\nMessage: <query>\nLabel:`, scored by the
 * log-probability of each label word's tokens after it (the sum over the label's tokens, the label
 * tokenised as ' ' + word and appended to the prompt's ids). The prompt respects n_ctx: examples are
 * dropped, least similar first, until BOS + prompt + the longest label fit; the query is never cut.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, TokenizerError } from '../errors.js';
import type { HookedTransformer } from '../model/hooked_transformer.js';

/** How a few-shot prompt is written. @category Anomaly */
export interface PromptTemplate {
  /** Before each message (default 'Message: '). */
  readonly inputPrefix?: string;
  /** After each message, on a new line, before the label (default 'Label:'). */
  readonly labelPrefix?: string;
  /** Between examples (default '\n\n'). */
  readonly separator?: string;
}

/** A labelled text: label 1 = anomalous, 0 = normal. @category Anomaly */
export interface FewShotExample {
  /** The text. */
  readonly text: string;
  /** 1 = anomalous (e.g. spam), 0 = normal (ham). */
  readonly label: 0 | 1;
}

/** Token budget of a prompt. @category Anomaly */
export interface PromptBudget {
  /** The model's context length. */
  readonly nCtx: number;
  /** BOS id prepended to the prompt (undefined: none). */
  readonly bos: number | undefined;
  /** Tokens of the longest label continuation (reserved after the prompt). */
  readonly labelTokens: number;
}

/** A built prompt. @category Anomaly */
export interface BuiltPrompt {
  /** The prompt text (without BOS). */
  readonly text: string;
  /** Its ids, BOS first when the budget has one. */
  readonly ids: number[];
  /** Number of examples that fit. */
  readonly shots: number;
}

/** One-line form of a text inside a prompt (runs of whitespace → one space). */
function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/**
 * The prompt text of examples (in the given order) and a query.
 * @param query Query text.
 * @param examples Examples in prompt order.
 * @param labelWords Words of label 0 and label 1.
 * @param template Prefixes and separator.
 * @returns The text, ending with the label prefix.
 * @category Anomaly
 */
export function promptText(query: string, examples: readonly FewShotExample[], labelWords: readonly [string, string], template: PromptTemplate = {}): string {
  const inp = template.inputPrefix ?? 'Message: ';
  const lab = template.labelPrefix ?? 'Label:';
  const sep = template.separator ?? '\n\n';
  const blocks = examples.map((e) => `${inp}${oneLine(e.text)}\n${lab} ${labelWords[e.label]}`);
  return [...blocks, `${inp}${oneLine(query)}\n${lab}`].join(sep);
}

/**
 * Build the longest prompt that fits: the first m of `ranked` (most similar first), written least
 * similar first so the most similar example sits next to the query, with m as large as the budget
 * allows (BOS + prompt tokens + `labelTokens` ≤ n_ctx). The query is never truncated.
 * @param encode Tokenizer encode (no special tokens).
 * @param query Query text.
 * @param ranked Labelled examples, most similar first.
 * @param labelWords Words of label 0 and label 1.
 * @param budget n_ctx, BOS, label tokens.
 * @param template Prefixes and separator.
 * @returns The prompt and how many examples it holds.
 * @throws {@link "tfjs-lens"!ConfigError} when the query alone does not fit (the message gives its
 *   token count and the budget).
 * @category Anomaly
 */
export function buildFewShotPrompt(
  encode: (text: string) => number[], query: string, ranked: readonly FewShotExample[],
  labelWords: readonly [string, string], budget: PromptBudget, template: PromptTemplate = {},
): BuiltPrompt {
  const room = budget.nCtx - budget.labelTokens - (budget.bos === undefined ? 0 : 1);
  for (let m = ranked.length; m >= 0; m--) {
    const text = promptText(query, ranked.slice(0, m).reverse(), labelWords, template);
    const ids = encode(text);
    if (ids.length <= room) return { text, ids: budget.bos === undefined ? ids : [budget.bos, ...ids], shots: m };
    if (m === 0) {
      throw new ConfigError(`buildFewShotPrompt: the query alone takes ${ids.length} prompt tokens but only ${room} fit (n_ctx ${budget.nCtx} − ${budget.labelTokens} label tokens${budget.bos === undefined ? '' : ' − BOS'}); shorten the query, use a model with a longer context, or method 'knn'`);
    }
  }
  throw new ConfigError('buildFewShotPrompt: unreachable');
}

/**
 * Label-word token ids: ' ' + word, tokenised.
 * @param encode Tokenizer encode.
 * @param labelWords Words of label 0 and label 1.
 * @returns Ids per label.
 * @throws {@link "tfjs-lens"!TokenizerError} for a word that gives no token.
 * @category Anomaly
 */
export function labelTokenIds(encode: (text: string) => number[], labelWords: readonly [string, string]): [number[], number[]] {
  const ids = labelWords.map((w) => encode(` ${w}`));
  ids.forEach((r, i) => {
    if (r.length === 0) throw new TokenizerError(`labelTokenIds: label word '${labelWords[i]}' gives no token — choose a non-empty word`);
  });
  return [ids[0] as number[], ids[1] as number[]];
}

/**
 * log p(label tokens | prompt) for every prompt and label: the sum over the label's tokens of the
 * log-softmax of the logits at the position before each. Rows (prompt + label) are right-padded in
 * batches; the causal model's logits at real positions do not see the padding.
 * @param model Causal LM.
 * @param prompts Prompt ids (BOS included if wanted).
 * @param labels Label continuation ids.
 * @param batchSize Rows (prompt × label pairs) per forward pass (default 16).
 * @returns [prompt][label] log-probabilities (≤ 0).
 * @throws {@link "tfjs-lens"!ConfigError} if a row exceeds n_ctx.
 * @category Anomaly
 */
export function labelLogProbs(model: HookedTransformer, prompts: readonly (readonly number[])[], labels: readonly (readonly number[])[], batchSize = 16): number[][] {
  const rows: { ids: number[]; start: number; q: number; l: number }[] = [];
  prompts.forEach((p, q) => labels.forEach((lab, l) => rows.push({ ids: [...p, ...lab], start: p.length, q, l })));
  const out = prompts.map(() => labels.map(() => 0));
  for (const r of rows) {
    if (r.ids.length > model.cfg.nCtx) throw new ConfigError(`labelLogProbs: prompt ${r.q} with label ${r.l} takes ${r.ids.length} tokens, more than n_ctx ${model.cfg.nCtx}; build prompts with buildFewShotPrompt`);
  }
  for (let s = 0; s < rows.length; s += batchSize) {
    const batch = rows.slice(s, s + batchSize);
    const width = Math.max(...batch.map((r) => r.ids.length));
    const ids = batch.map((r) => [...r.ids, ...new Array<number>(width - r.ids.length).fill(0)]); // [rows, width], right-padded
    // [row, position before the label token, label token] for every label token.
    const where: [number, number, number][] = [];
    const owner: number[] = [];
    batch.forEach((r, b) => {
      for (let t = r.start; t < r.ids.length; t++) {
        where.push([b, t - 1, r.ids[t] as number]);
        owner.push(b);
      }
    });
    const picked = tf.tidy(() => {
      const logits = model.logits(ids); // [rows, width, d_vocab]
      return tf.gatherND(tf.logSoftmax(logits, -1), tf.tensor2d(where, [where.length, 3], 'int32')); // [label tokens]
    });
    const vals = picked.dataSync();
    picked.dispose();
    owner.forEach((b, k) => {
      const r = batch[b] as (typeof rows)[number];
      (out[r.q] as number[])[r.l] = ((out[r.q] as number[])[r.l] as number) + (vals[k] as number);
    });
  }
  return out;
}

/**
 * Anomaly probability from the two labels' log-probabilities: softmax over [lp0, lp1], the label-1 entry.
 * @param lp [log p(label 0), log p(label 1)].
 * @returns σ(lp1 − lp0).
 * @category Anomaly
 */
export function labelSoftmax(lp: readonly number[]): number {
  return 1 / (1 + Math.exp((lp[0] as number) - (lp[1] as number)));
}
