/**
 * `testPrompt` (TL `utils.test_prompt`): run a prompt followed by its answer, and print and return
 * the rank, logit and probability of each answer token together with the top-k predictions.
 */
import { ConfigError } from '../errors.js';
import type { HookedTransformer } from '../model/hooked_transformer.js';
import { tokensToRows } from '../model/inputs.js';

/**
 * Options of {@link testPrompt}.
 * @category Evals
 */
export interface TestPromptOptions {
  /** Prepend a space to string answers that lack one (default true, TL). */
  readonly prependSpaceToAnswer?: boolean;
  /** Print the tokenisation, each answer token and the top-k (default true). The rank summary always prints. */
  readonly printDetails?: boolean;
  /** Prepend BOS to a string prompt (default true). */
  readonly prependBos?: boolean;
  /** How many top tokens to print and return (default 10). */
  readonly topK?: number;
  /** Where lines go (default `console.log`). */
  readonly print?: (line: string) => void;
}

/**
 * One token's readout at one answer position.
 * @category Evals
 */
export interface TokenReadout {
  /** The token as a string (its id when the model has no tokenizer). */
  readonly token: string;
  /** Token id. */
  readonly id: number;
  /** Rank among all tokens (0 = most likely; ties count only strictly larger logits). */
  readonly rank: number;
  /** Logit. */
  readonly logit: number;
  /** Probability. */
  readonly prob: number;
}

/**
 * The readouts at one answer position.
 * @category Evals
 */
export interface PositionReadout {
  /** Each answer's token at this position. */
  readonly answers: TokenReadout[];
  /** The top-k tokens of the first answer's row. */
  readonly top: TokenReadout[];
}

/**
 * What {@link testPrompt} returns.
 * @category Evals
 */
export interface TestPromptResult {
  /** The prompt's tokens as strings. */
  readonly promptStrTokens: string[];
  /** Each answer's tokens as strings. */
  readonly answerStrTokens: string[][];
  /** Per answer position: every answer's token readout and the top-k of the first answer's row. */
  readonly positions: PositionReadout[];
  /** `[token, rank]` of the first answer at each position (TL's printed summary). */
  readonly ranks: [string, number][];
}

const pct = (p: number): string => `${(p * 100).toFixed(2)}%`.padStart(6);
const num = (x: number): string => x.toFixed(2).padStart(5);

function strToken(model: HookedTransformer, id: number): string {
  return model.tokenizer === undefined ? String(id) : model.tokenizer.decodeToken(id);
}

function encode(model: HookedTransformer, text: string, prependBos: boolean): number[] {
  const t = model.toTokens(text, { prependBos }); // [1, pos]
  try {
    return (t.arraySync()[0] ?? []) as number[];
  } finally {
    t.dispose();
  }
}

/** Answer ids: one list per answer (a single multi-token answer, or several one-token answers). */
function answerIds(model: HookedTransformer, answer: string | readonly string[] | readonly number[], space: boolean): number[][] {
  if (typeof answer !== 'string' && answer.length > 0 && typeof answer[0] === 'number') {
    return tokensToRows(answer as readonly number[], model.cfg.dVocab, 'testPrompt');
  }
  const list = typeof answer === 'string' ? [answer] : (answer as readonly string[]);
  if (list.length === 0) throw new ConfigError('testPrompt: answer must not be empty');
  const ids = list.map((a) => encode(model, space && !a.startsWith(' ') ? ` ${a}` : a, false));
  return ids.length > 1 ? ids.map((r) => r.slice(0, 1)) : ids; // several answers: next token only (TL)
}

function readout(model: HookedTransformer, row: Float32Array, id: number): TokenReadout {
  const logit = row[id] as number;
  let rank = 0;
  let z = 0;
  const max = row.reduce((a, v) => Math.max(a, v), -Infinity);
  for (const v of row) {
    if (v > logit) rank++;
    z += Math.exp(v - max);
  }
  return { token: strToken(model, id), id, rank, logit, prob: Math.exp(logit - max) / z };
}

/**
 * Test whether the model gives an answer to a prompt (TL `test_prompt`), printing TL's report and
 * returning the numbers. Several string answers are compared on the next token only.
 * @param model The model.
 * @param prompt Text, or token ids (used as given).
 * @param answer Text, several texts, or the token ids of one answer.
 * @param opts Space/BOS handling, printing, top-k.
 * @returns Ranks, logits, probabilities and the top-k per answer position.
 * @throws {@link "tfjs-lens"!ConfigError} for an empty answer or a run beyond n_ctx; {@link "tfjs-lens"!TokenizerError} for text without a tokenizer.
 * @example const r = testPrompt(model, 'The Eiffel Tower is in', 'Paris');  // r.ranks[0] = [' Paris', 0]
 * @category Evals
 */
export function testPrompt(
  model: HookedTransformer,
  prompt: string | readonly number[],
  answer: string | readonly string[] | readonly number[],
  opts: TestPromptOptions = {},
): TestPromptResult {
  const print = opts.print ?? ((line: string) => console.log(line));
  const details = opts.printDetails !== false;
  const topK = opts.topK ?? 10;
  const promptIds = typeof prompt === 'string' ? encode(model, prompt, opts.prependBos !== false) : (tokensToRows(prompt, model.cfg.dVocab, 'testPrompt')[0] ?? []);
  const answers = answerIds(model, answer, opts.prependSpaceToAnswer !== false);
  const aLen = answers[0]?.length ?? 0;
  if (promptIds.length + aLen > model.cfg.nCtx) throw new ConfigError(`testPrompt: prompt + answer exceed n_ctx (${model.cfg.nCtx})`);
  const promptStrTokens = promptIds.map((id) => strToken(model, id));
  const answerStrTokens = answers.map((r) => r.map((id) => strToken(model, id)));
  if (details) {
    print(`Tokenized prompt: ${JSON.stringify(promptStrTokens)}`);
    print(`Tokenized answer${answers.length > 1 ? 's' : ''}: ${JSON.stringify(answers.length > 1 ? answerStrTokens : answerStrTokens[0])}`);
  }
  const logits = model.logits(answers.map((a) => [...promptIds, ...a])); // [n_answers, pos, d_vocab]
  const positions: PositionReadout[] = [];
  try {
    const [, pos, vocab] = logits.shape;
    const flat = logits.dataSync();
    const rowAt = (a: number, p: number): Float32Array => flat.subarray((a * pos + p) * vocab, (a * pos + p + 1) * vocab) as Float32Array;
    for (let i = 0; i < aLen; i++) {
      const p = promptIds.length + i - 1; // the logits at p predict token p + 1
      const reads = answers.map((a, k) => readout(model, rowAt(k, p), a[i] as number));
      const first = rowAt(0, p);
      const order = Array.from(first.keys()).sort((x, y) => (first[y] as number) - (first[x] as number)).slice(0, topK);
      const top = order.map((id) => readout(model, first, id));
      positions.push({ answers: reads, top });
      if (!details) continue;
      print(`Performance on answer token${answers.length > 1 ? 's' : ''}:`);
      for (const r of reads) print(`Rank: ${String(r.rank).padEnd(8)} Logit: ${num(r.logit)} Prob: ${pct(r.prob)} Token: |${r.token}|`);
      top.forEach((r, k) => print(`Top ${k}th token. Logit: ${num(r.logit)} Prob: ${pct(r.prob)} Token: |${r.token}|`));
    }
  } finally {
    logits.dispose();
  }
  const ranks = positions.map((p): [string, number] => [p.answers[0]?.token ?? '', p.answers[0]?.rank ?? -1]);
  const summary = answers.length > 1 ? positions.map((p) => p.answers.map((r) => [r.token, r.rank])) : ranks;
  print(`Ranks of the answer tokens: ${JSON.stringify(summary)}`);
  return { promptStrTokens, answerStrTokens, positions, ranks };
}
