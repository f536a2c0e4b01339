/**
 * Head detector (TL `head_detector.detect_head`): score every attention head against a detection
 * pattern — previous-token, duplicate-token, induction, or a custom lower-triangular [pos, pos]
 * matrix — with TL's 'mul' (fraction of attention on the pattern) or 'abs' error measure.
 */
import { ConfigError, ShapeError } from '../errors.js';
import type { ActivationCache } from '../hooks/activation_cache.js';
import type { HookedTransformer } from '../model/hooked_transformer.js';
import { tokensToRows } from '../model/inputs.js';

/** Built-in detection patterns. @category Evals */
export type HeadName = 'previous_token_head' | 'duplicate_token_head' | 'induction_head';

/**
 * TL previous-token pattern: ones on the first sub-diagonal (query i attends to key i − 1).
 * @param n Sequence length.
 * @returns [n][n] matrix of 0/1.
 * @throws Never.
 * @example previousTokenPattern(3)  // [[0,0,0],[1,0,0],[0,1,0]]
 * @category Evals
 */
export function previousTokenPattern(n: number): number[][] {
  return Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (j === i - 1 ? 1 : 0)));
}

/**
 * TL duplicate-token pattern: query i attends to every earlier key j < i holding the same token.
 * @param tokens One sequence of ids.
 * @returns [n][n] lower-triangular 0/1 matrix (zero diagonal).
 * @throws Never.
 * @example duplicateTokenPattern([5, 6, 5])  // row 2 is [1, 0, 0]
 * @category Evals
 */
export function duplicateTokenPattern(tokens: readonly number[]): number[][] {
  return tokens.map((ti, i) => tokens.map((tj, j) => (j < i && ti === tj ? 1 : 0)));
}

/**
 * TL induction pattern: the duplicate-token pattern shifted one key to the right (query i attends
 * to the token after an earlier occurrence of its own token), first column zero, lower triangle.
 * @param tokens One sequence of ids.
 * @returns [n][n] lower-triangular 0/1 matrix.
 * @throws Never.
 * @example inductionPattern([5, 6, 5])  // row 2 is [0, 1, 0]
 * @category Evals
 */
export function inductionPattern(tokens: readonly number[]): number[][] {
  const dup = duplicateTokenPattern(tokens);
  return dup.map((row, i) => row.map((_, j) => (j === 0 || j > i ? 0 : (row[j - 1] as number))));
}

/**
 * Options of the similarity score (TL `compute_head_attention_similarity_score`).
 * @category Evals
 */
export interface SimilarityOptions {
  /** Ignore attention to position 0 (the BOS). */
  readonly excludeBos?: boolean;
  /** Ignore attention to the current token (the diagonal). */
  readonly excludeCurrentToken?: boolean;
  /** 'mul' (default): Σ(attn·pattern)/Σ attn. 'abs': 1 − round(mean|attn − pattern|·n, 3). */
  readonly errorMeasure?: 'mul' | 'abs';
}

/**
 * Score one head's attention pattern against a detection pattern, as TL (without TL's side effect
 * of zeroing the cached pattern in place).
 * @param attention [pos_q][pos_k] attention pattern (lower triangular).
 * @param detection [pos][pos] detection pattern of the same size.
 * @param opts Exclusions and error measure.
 * @returns 'mul': fraction in [0, 1]; 'abs': in (−1, 1], 1 = perfect match.
 * @throws {@link "tfjs-lens"!ShapeError} if the matrices are not square and the same size, or 'abs' sees attention above the diagonal.
 * @example headAttentionSimilarity([[1, 0], [1, 0]], previousTokenPattern(2))  // 0.5
 * @category Evals
 */
export function headAttentionSimilarity(attention: readonly (readonly number[])[], detection: readonly (readonly number[])[], opts: SimilarityOptions = {}): number {
  const n = attention.length;
  if (detection.length !== n || [...attention, ...detection].some((r) => r.length !== n)) {
    throw new ShapeError(`headAttentionSimilarity: attention and detection must both be [${n}, ${n}]`);
  }
  const dropped = (i: number, j: number): boolean => (opts.excludeBos === true && j === 0) || (opts.excludeCurrentToken === true && i === j);
  const at = (m: readonly (readonly number[])[], i: number, j: number): number => m[i]?.[j] ?? 0;
  if ((opts.errorMeasure ?? 'mul') === 'mul') {
    let hit = 0;
    let total = 0;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        if (dropped(i, j)) continue;
        hit += at(attention, i, j) * at(detection, i, j);
        total += at(attention, i, j);
      }
    }
    return hit / total;
  }
  let sum = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const d = Math.abs(at(attention, i, j) - at(detection, i, j));
      if (j > i && d !== 0) throw new ShapeError('headAttentionSimilarity: |attention − detection| must be lower triangular');
      if (!dropped(i, j)) sum += d;
    }
  }
  return 1 - Math.round((sum / (n * n)) * n * 1000) / 1000;
}

/**
 * Options of {@link detectHead}.
 * @category Evals
 */
export interface DetectHeadOptions extends SimilarityOptions {
  /** Heads to score, as `[layer, head]` pairs or `{layer: heads}`; the others get −1. Default all. */
  readonly heads?: readonly (readonly [number, number])[] | Readonly<Record<number, readonly number[]>>;
  /** A cache of this very sequence (batch 1) with `attn.hook_pattern`, to skip the forward pass. */
  readonly cache?: ActivationCache;
}

function headSet(heads: DetectHeadOptions['heads'], nLayers: number, nHeads: number): Map<number, number[]> {
  const out = new Map<number, number[]>();
  const add = (l: number, h: number): void => {
    if (!(l >= 0 && l < nLayers && h >= 0 && h < nHeads)) throw new ConfigError(`detectHead: no head L${l}H${h}`);
    out.set(l, [...(out.get(l) ?? []), h]);
  };
  if (heads === undefined) {
    for (let l = 0; l < nLayers; l++) for (let h = 0; h < nHeads; h++) add(l, h);
  } else if (Array.isArray(heads)) {
    for (const [l, h] of heads as readonly (readonly [number, number])[]) add(l, h);
  } else {
    for (const [l, hs] of Object.entries(heads as Record<number, readonly number[]>)) for (const h of hs) add(Number(l), h);
  }
  return out;
}

function sequences(model: HookedTransformer, seq: string | readonly string[] | readonly number[] | readonly (readonly number[])[]): number[][] {
  if (typeof seq === 'string') {
    // Not truncated: a text longer than n_ctx is an error (TL asserts on the length), checked in detectOne.
    const t = model.toTokens(seq, { truncate: false }); // [1, pos], BOS prepended as TL's to_tokens
    try {
      return t.arraySync();
    } finally {
      t.dispose();
    }
  }
  if (seq.length > 0 && typeof seq[0] === 'string') return (seq as readonly string[]).flatMap((s) => sequences(model, s));
  return tokensToRows(seq as readonly number[] | readonly (readonly number[])[], model.cfg.dVocab, 'detectHead');
}

function detectOne(model: HookedTransformer, row: number[], pattern: HeadName | readonly (readonly number[])[], opts: DetectHeadOptions): number[][] {
  const { nLayers, nHeads, nCtx } = model.cfg;
  const n = row.length;
  if (n > nCtx) {
    throw new ConfigError(`detectHead: the sequence has ${n} tokens, longer than n_ctx (${nCtx}); shorten it to at most ${nCtx} tokens`);
  }
  if (n < 2) throw new ConfigError(`detectHead: the sequence must have 2 to n_ctx (${nCtx}) tokens, got ${n}`);
  if (typeof pattern === 'string' && !['previous_token_head', 'duplicate_token_head', 'induction_head'].includes(pattern)) {
    throw new ConfigError(`detectHead: unknown head name '${String(pattern)}' (previous_token_head|duplicate_token_head|induction_head)`);
  }
  const det =
    pattern === 'previous_token_head' ? previousTokenPattern(n)
    : pattern === 'duplicate_token_head' ? duplicateTokenPattern(row)
    : pattern === 'induction_head' ? inductionPattern(row)
    : pattern;
  if (det.length !== n || det.some((r, i) => r.length !== n || r.some((v, j) => j > i && v !== 0))) {
    throw new ShapeError(`detectHead: the detection pattern must be a lower-triangular [${n}, ${n}] matrix (sequence length ${n})`);
  }
  const own = opts.cache === undefined;
  const cache = opts.cache ?? model.runWithCache([row], { namesFilter: (x) => x.endsWith('attn.hook_pattern'), returnType: 'none' })[1];
  try {
    const scores = Array.from({ length: nLayers }, () => new Array<number>(nHeads).fill(-1));
    for (const [l, hs] of headSet(opts.heads, nLayers, nHeads)) {
      const p = cache.get(`blocks.${l}.attn.hook_pattern`); // [1, n_heads, pos_q, pos_k]
      if (p.shape[0] !== 1 || p.shape[2] !== n) throw new ShapeError(`detectHead: the cache must hold this one sequence, got pattern [${p.shape}]`);
      const heads = (p.arraySync() as number[][][][])[0] as number[][][];
      for (const h of hs) (scores[l] as number[])[h] = headAttentionSimilarity(heads[h] as number[][], det, opts);
    }
    return scores;
  } finally {
    if (own) cache.dispose();
  }
}

/**
 * Score every head (or the chosen ones) against a detection pattern (TL `detect_head`). Strings
 * are tokenised with BOS; several sequences are scored one by one and averaged (TL does this for
 * named patterns; here options are kept, which TL's recursion drops).
 * @param model The model.
 * @param seq Text(s), or token ids ([pos] or [batch, pos]).
 * @param pattern A {@link HeadName}, or a custom lower-triangular [pos][pos] pattern.
 * @param opts Heads, cache, exclusions, error measure.
 * @returns Scores [n_layers][n_heads]; −1 for heads not checked.
 * @throws {@link "tfjs-lens"!ConfigError} for an unknown name, a bad head, or a length outside [2, n_ctx];
 *   {@link "tfjs-lens"!ShapeError} for a malformed pattern or cache.
 * @example const prev = detectHead(model, tokens, 'previous_token_head');  // prev[l][h]
 * @category Evals
 */
export function detectHead(
  model: HookedTransformer,
  seq: string | readonly string[] | readonly number[] | readonly (readonly number[])[],
  pattern: HeadName | readonly (readonly number[])[],
  opts: DetectHeadOptions = {},
): number[][] {
  const rows = sequences(model, seq);
  if (rows.length > 1 && opts.cache !== undefined) throw new ConfigError('detectHead: a cache can only be passed with one sequence');
  const per = rows.map((r) => detectOne(model, r, pattern, opts));
  return (per[0] as number[][]).map((row, l) => row.map((_, h) => per.reduce((a, s) => a + (s[l]?.[h] ?? 0), 0) / per.length));
}
