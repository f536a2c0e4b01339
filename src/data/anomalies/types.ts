/**
 * Shared types of the synthetic-anomaly generators: what kind of anomaly, which edit, and where it
 * happened (text edits in original coordinates, so every anomaly can be undone and checked).
 */
import type { Rng } from '../../utils/rng.js';

/** The family of a synthetic anomaly. @category Data */
export type AnomalyType = 'typo' | 'format' | 'semantic';

/** Every anomaly family, in a fixed order. @category Data */
export const ANOMALY_TYPES: readonly AnomalyType[] = ['typo', 'format', 'semantic'];

/** Character-level typo edits. @category Data */
export type TypoEdit = 'insert' | 'delete' | 'swap' | 'substitute';
/** Format-error edits. @category Data */
export type FormatEdit = 'reorder' | 'case' | 'unit' | 'number_format' | 'delimiter';
/**
 * Semantic-shift edits. `implausible_value` (tabular rows only) moves a numeric field outside the
 * range the dataset shows for that column.
 * @category Data
 */
export type SemanticEdit = 'category_swap' | 'field_swap' | 'contradiction' | 'implausible_value';
/** Any anomaly edit. @category Data */
export type AnomalyEdit = TypoEdit | FormatEdit | SemanticEdit;

/** The edits of each anomaly family, in a fixed order. @category Data */
export const ANOMALY_EDITS: Readonly<Record<AnomalyType, readonly AnomalyEdit[]>> = {
  typo: ['insert', 'delete', 'swap', 'substitute'],
  format: ['reorder', 'case', 'unit', 'number_format', 'delimiter'],
  semantic: ['category_swap', 'field_swap', 'contradiction', 'implausible_value'],
};

/**
 * One replacement in a text: `original.slice(start, end)` (= `before`) became `after`. Offsets are in
 * the original text; several spans never overlap and are sorted by `start`. An insertion has
 * `start === end`; a deletion has `after === ''`.
 * @category Data
 */
export interface TextSpan {
  /** Start offset in the original text (UTF-16 code units). */
  readonly start: number;
  /** End offset (exclusive) in the original text. */
  readonly end: number;
  /** The original text of the span. */
  readonly before: string;
  /** Its replacement in the anomalous text. */
  readonly after: string;
}

/** What a generator returns when it found a place to edit. @category Data */
export interface TextEditResult {
  /** The edited text (never equal to the input). */
  readonly text: string;
  /** The replacements, in original coordinates. */
  readonly spans: readonly TextSpan[];
  /** A short human-readable description (e.g. `"o → p (QWERTY neighbour)"`). */
  readonly detail: string;
}

/**
 * Apply non-overlapping spans (sorted or not) to a text.
 * @param original The original text.
 * @param spans Replacements in original coordinates.
 * @returns The edited text.
 * @throws never (overlapping spans are the caller's bug; later spans win).
 * @example applySpans('Cotton', [{ start: 1, end: 2, before: 'o', after: 'p' }])  // 'Cptton'
 * @category Data
 */
export function applySpans(original: string, spans: readonly TextSpan[]): string {
  const sorted = [...spans].sort((a, b) => a.start - b.start);
  let out = '';
  let at = 0;
  for (const s of sorted) {
    out += original.slice(at, s.start) + s.after;
    at = s.end;
  }
  return out + original.slice(at);
}

/**
 * The one span that turns `a` into `b` (common prefix and suffix removed), or none when equal.
 * @param a The original text.
 * @param b The edited text.
 * @returns Zero or one span.
 * @example diffSpan('glucose is 148', 'glucose is 1480')  // [{ start: 14, end: 14, before: '', after: '0' }]
 * @category Data
 */
export function diffSpan(a: string, b: string): TextSpan[] {
  if (a === b) return [];
  let p = 0;
  while (p < a.length && p < b.length && a[p] === b[p]) p++;
  let s = 0;
  while (s < a.length - p && s < b.length - p && a[a.length - 1 - s] === b[b.length - 1 - s]) s++;
  return [{ start: p, end: a.length - s, before: a.slice(p, a.length - s), after: b.slice(p, b.length - s) }];
}

/** A uniform integer in [0, n). */
export function randInt(rng: Rng, n: number): number {
  return Math.min(n - 1, Math.floor(rng() * n));
}

/** A uniform element of a non-empty list. */
export function pick<T>(rng: Rng, xs: readonly T[]): T {
  return xs[randInt(rng, xs.length)] as T;
}

/** A seeded Fisher–Yates shuffle (a new array). */
export function shuffled<T>(rng: Rng, xs: readonly T[]): T[] {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = randInt(rng, i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}
