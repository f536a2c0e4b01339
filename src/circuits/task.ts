/**
 * Circuit-discovery tasks: clean prompts, corrupted prompts (for resample ablation and patching)
 * and the answer token at each scored position. `inductionTask` builds the repeated-random-token
 * task of ACDC's induction experiment (BOS, r₁…r_L, r₁…r_L; the second repeat is predictable).
 */
import { ConfigError, ShapeError } from '../errors.js';
import type { ModelConfig } from '../model/config.js';
import { repeatedTokenBatch } from '../train/synthetic_data.js';
import { seededRng } from '../utils/rng.js';

/** A task: prompts and what the model should predict where. @category Circuits */
export interface CircuitTask {
  /** Short name, used in file names (`circuits/<name>/<model>.json`). */
  readonly name: string;
  /** Clean prompts [batch, pos]. */
  readonly prompts: readonly (readonly number[])[];
  /** Corrupted prompts [batch, pos] (resample ablation reads activations from these). */
  readonly corrupted?: readonly (readonly number[])[];
  /** Positions whose next-token prediction is scored (the same for every prompt). */
  readonly answerPositions: readonly number[];
  /** Correct next token per prompt and scored position, [batch][n_answer_positions]. */
  readonly answerTokens: readonly (readonly number[])[];
  /** Competing token per prompt and position for the logit difference; default: the mean logit. */
  readonly wrongTokens?: readonly (readonly number[])[];
}

function checkRows(rows: readonly (readonly number[])[], width: number, hi: number, what: string, fn: string): void {
  rows.forEach((r, i) => {
    if (r.length !== width) throw new ShapeError(`${fn}: ${what} row ${i} has ${r.length} entries, expected ${width}`);
    for (const t of r) {
      if (!Number.isInteger(t) || t < 0 || t >= hi) throw new ShapeError(`${fn}: ${what} row ${i} holds ${t}, expected an integer in [0, ${hi})`);
    }
  });
}

/**
 * Check a task against a model: rectangular prompts within n_ctx, ids in the vocabulary, answer
 * positions inside the prompt, answer rows of the right size, corrupted prompts the same shape.
 * @param task The task.
 * @param cfg The model's vocabulary size and context length.
 * @param fn Calling function, for messages.
 * @returns The prompt length.
 * @throws {@link "tfjs-lens"!ShapeError} naming the bad field; {@link "tfjs-lens"!ConfigError} with no prompts or positions.
 * @example validateTask(task, model.cfg, 'acdc')  // 41
 * @category Circuits
 */
export function validateTask(task: CircuitTask, cfg: Pick<ModelConfig, 'dVocab' | 'nCtx'>, fn: string): number {
  const b = task.prompts.length;
  const pos = task.prompts[0]?.length ?? 0;
  if (b === 0 || pos === 0) throw new ConfigError(`${fn}: the task '${task.name}' has no prompts`);
  if (pos > cfg.nCtx) throw new ShapeError(`${fn}: prompts have ${pos} tokens, more than n_ctx (${cfg.nCtx})`);
  checkRows(task.prompts, pos, cfg.dVocab, 'prompts', fn);
  if (task.corrupted !== undefined) {
    if (task.corrupted.length !== b) throw new ShapeError(`${fn}: corrupted has ${task.corrupted.length} rows, prompts ${b}`);
    checkRows(task.corrupted, pos, cfg.dVocab, 'corrupted', fn);
  }
  const n = task.answerPositions.length;
  if (n === 0) throw new ConfigError(`${fn}: the task '${task.name}' has no answer positions`);
  for (const p of task.answerPositions) {
    if (!Number.isInteger(p) || p < 0 || p >= pos) throw new ShapeError(`${fn}: answer position ${p} is outside [0, ${pos})`);
  }
  if (task.answerTokens.length !== b) throw new ShapeError(`${fn}: answerTokens has ${task.answerTokens.length} rows, prompts ${b}`);
  checkRows(task.answerTokens, n, cfg.dVocab, 'answerTokens', fn);
  if (task.wrongTokens !== undefined) {
    if (task.wrongTokens.length !== b) throw new ShapeError(`${fn}: wrongTokens has ${task.wrongTokens.length} rows, prompts ${b}`);
    checkRows(task.wrongTokens, n, cfg.dVocab, 'wrongTokens', fn);
  }
  return pos;
}

/** Options of {@link inductionTask}. @category Circuits */
export interface InductionTaskOptions {
  /** Prompts (default 16). */
  readonly batch?: number;
  /** Length L of the random segment (default 20; prompts have 1 + 2L tokens). */
  readonly segLen?: number;
  /** Lowest token id, inclusive (default 1000, as `models/induction-2l` was trained). */
  readonly low?: number;
  /** Highest token id, exclusive (default 3000). */
  readonly high?: number;
  /** BOS id put first (default 50256, GPT-2's). */
  readonly bos?: number;
  /** Seed (default 0): clean prompts, then corrupted prompts, from one stream. */
  readonly seed?: number;
}

/**
 * The induction task: prompts BOS, r₁…r_L, r₁…r_L; corrupted prompts use fresh random segments.
 * Scored positions are L+1 … 2L−1 (the second repeat, where the next token already appeared);
 * the answer is the next token, the wrong token the corrupted prompt's next token there.
 * @param opts Sizes, id range, BOS and seed.
 * @returns The task (name 'induction').
 * @throws {@link "tfjs-lens"!ConfigError} for non-positive sizes or an empty id range.
 * @example const task = inductionTask({ batch: 8, seed: 0 });  // prompts [8][41], 19 scored positions
 * @category Circuits
 */
export function inductionTask(opts: InductionTaskOptions = {}): CircuitTask {
  const batch = opts.batch ?? 16;
  const segLen = opts.segLen ?? 20;
  const low = opts.low ?? 1000;
  const high = opts.high ?? 3000;
  if (!(Number.isInteger(batch) && batch > 0 && Number.isInteger(segLen) && segLen >= 2)) {
    throw new ConfigError(`inductionTask: need a positive integer batch and segLen >= 2, got ${batch}, ${segLen}`);
  }
  if (!(Number.isInteger(low) && Number.isInteger(high) && low >= 0 && low < high)) {
    throw new ConfigError(`inductionTask: need integers 0 <= low < high, got [${low}, ${high})`);
  }
  const rand = seededRng(opts.seed ?? 0);
  const spec = { batch, segLen, low, high, bos: opts.bos ?? 50256 };
  const prompts = repeatedTokenBatch(rand, spec);
  const corrupted = repeatedTokenBatch(rand, spec);
  const answerPositions = Array.from({ length: segLen - 1 }, (_, i) => segLen + 1 + i);
  const next = (rows: number[][]): number[][] => rows.map((r) => answerPositions.map((p) => r[p + 1] as number));
  return { name: 'induction', prompts, corrupted, answerPositions, answerTokens: next(prompts), wrongTokens: next(corrupted) };
}
