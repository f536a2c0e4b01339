/**
 * The shared dataset builder of the synthetic anomalies: option checks, the seeded choice of which
 * rows become anomalous and of which type, retries over a type's edits, and honest skip counts.
 */
import { ConfigError, DatasetError } from '../../errors.js';
import { closeName } from '../../utils/nearest.js';
import { seededRng, type Rng } from '../../utils/rng.js';
import type { ContradictionRule, AnomalyLexicon } from './semantic.js';
import type { UnitConversion } from './format.js';
import { ANOMALY_EDITS, ANOMALY_TYPES, shuffled, type AnomalyEdit, type AnomalyType, type TextEditResult, type TextSpan } from './types.js';

/** Options shared by {@link makeAnomalyDataset} and {@link makeTabularAnomalyDataset}. @category Data */
export interface AnomalyOptions {
  /** Anomaly families to generate (default: all three), assigned round-robin over the anomalous rows in seeded order. */
  readonly types?: readonly AnomalyType[];
  /** Restrict the edits (default: every edit of the chosen types that applies to the input kind). */
  readonly edits?: readonly AnomalyEdit[];
  /** Share of source rows made anomalous, in [0, 1] (default 0.5). */
  readonly fraction?: number;
  /** Seed (default 0): the same seed and input give the same dataset. */
  readonly seed?: number;
  /** false (default): each source row is either normal or anomalous. true: every row appears normal, and the chosen ones also as an anomaly (pairs for contrastive training). */
  readonly paired?: boolean;
  /** Editor calls per anomalous row before it is skipped (default 12). */
  readonly maxTries?: number;
  /** Lexicon of the semantic edits on text (default {@link DEFAULT_ANOMALY_LEXICON}). */
  readonly lexicon?: AnomalyLexicon;
  /** Contradiction rules (default none: the `contradiction` edit then never applies). */
  readonly rules?: readonly ContradictionRule[];
  /** Unit table of the `unit` edit (default {@link DEFAULT_UNIT_CONVERSIONS}). */
  readonly units?: readonly UnitConversion[];
}

/** One row of a synthetic-anomaly dataset. @category Data */
export interface AnomalyExample {
  /** The text to classify (the original for normal rows). */
  readonly text: string;
  /** The source text before any edit. */
  readonly original: string;
  /** 0 normal, 1 anomaly. */
  readonly label: 0 | 1;
  /** Anomaly family, or 'normal'. */
  readonly type: AnomalyType | 'normal';
  /** The edit, or 'none' for normal rows. */
  readonly edit: AnomalyEdit | 'none';
  /** Where the text changed, in original coordinates ([] for normal rows); `applySpans(original, spans) === text`. */
  readonly spans: readonly TextSpan[];
  /** Human-readable description of the edit ('' for normal rows). */
  readonly detail: string;
  /** Index of the source row in the input. */
  readonly source: number;
}

/** Counts of a generated dataset. @category Data */
export interface AnomalyCounts {
  /** Normal rows. */
  readonly normal: number;
  /** Anomalous rows. */
  readonly anomalous: number;
  /** Anomalous rows per family. */
  readonly byType: Readonly<Record<AnomalyType, number>>;
  /** Anomalous rows per edit (edits that never happened are absent). */
  readonly byEdit: Readonly<Partial<Record<AnomalyEdit, number>>>;
}

/** Rows chosen to become anomalies where no edit of their family applied. @category Data */
export interface AnomalySkips {
  /** All skipped rows. */
  readonly total: number;
  /** Skipped rows per family. */
  readonly byType: Readonly<Record<AnomalyType, number>>;
}

/** What {@link makeAnomalyDataset} and {@link makeTabularAnomalyDataset} return. @category Data */
export interface AnomalyDataset<R extends AnomalyExample = AnomalyExample> {
  /** Rows in source order (in paired mode a row's anomaly follows its normal copy). */
  readonly rows: readonly R[];
  /** `rows[i].text`, ready for `finetuneClassifier({ texts, labels })`. */
  readonly texts: readonly string[];
  /** `rows[i].label`. */
  readonly labels: readonly number[];
  /** Counts per class, family and edit. */
  readonly counts: AnomalyCounts;
  /** Rows chosen to become anomalies of a family where no edit of it applied (left out of `rows` in split mode, left normal-only in paired mode). */
  readonly skipped: AnomalySkips;
  /** The seed used. */
  readonly seed: number;
}

/** Options after checking. */
export interface CheckedOptions {
  readonly types: readonly AnomalyType[];
  readonly editsByType: ReadonlyMap<AnomalyType, readonly AnomalyEdit[]>;
  readonly fraction: number;
  readonly seed: number;
  readonly paired: boolean;
  readonly maxTries: number;
}

function bad(where: string, option: string, got: unknown, valid: readonly string[]): ConfigError {
  const near = typeof got === 'string' ? closeName(got, valid) : undefined;
  return new ConfigError(`${where}: unknown ${option} ${JSON.stringify(got)}${near === undefined ? '' : ` — did you mean '${near}'?`} (valid: ${valid.join(', ')})`);
}

/**
 * Check the shared options.
 * @param opts The options.
 * @param where Function name for messages.
 * @param available Edits this input kind supports.
 * @returns Checked options.
 */
export function checkOptions(opts: AnomalyOptions, where: string, available: readonly AnomalyEdit[]): CheckedOptions {
  const types: readonly AnomalyType[] = opts.types ?? ANOMALY_TYPES;
  if (!Array.isArray(types as unknown) || types.length === 0) throw new ConfigError(`${where}: types must be a non-empty list of ${ANOMALY_TYPES.join(', ')}, got ${JSON.stringify(types)}`);
  for (const t of types) if (!ANOMALY_TYPES.includes(t)) throw bad(where, 'anomaly type in types:', t, ANOMALY_TYPES);
  const allEdits = ANOMALY_TYPES.flatMap((t) => ANOMALY_EDITS[t]);
  if (opts.edits !== undefined && !Array.isArray(opts.edits as unknown)) throw new ConfigError(`${where}: edits must be a list of ${allEdits.join(', ')}, got ${JSON.stringify(opts.edits)}`);
  for (const e of opts.edits ?? []) {
    if (!allEdits.includes(e)) throw bad(where, 'edit in edits:', e, allEdits);
    if (!available.includes(e)) throw new ConfigError(`${where}: edit '${e}' does not apply to this input (valid here: ${available.join(', ')})`);
    const t = ANOMALY_TYPES.find((x) => ANOMALY_EDITS[x].includes(e)) as AnomalyType;
    if (!types.includes(t)) throw new ConfigError(`${where}: edit '${e}' is a '${t}' edit but types is [${types.join(', ')}] — add '${t}' to types or drop the edit`);
  }
  const editsByType = new Map<AnomalyType, readonly AnomalyEdit[]>();
  for (const t of types) {
    const es = ANOMALY_EDITS[t].filter((e) => available.includes(e) && (opts.edits === undefined || opts.edits.includes(e)));
    if (es.length === 0) throw new ConfigError(`${where}: type '${t}' has no edit left — edits [${(opts.edits ?? []).join(', ')}] name none of ${ANOMALY_EDITS[t].filter((e) => available.includes(e)).join(', ')}`);
    editsByType.set(t, es);
  }
  const fraction = opts.fraction ?? 0.5;
  if (typeof fraction !== 'number' || !(fraction >= 0 && fraction <= 1)) throw new ConfigError(`${where}: fraction must be a number in [0, 1], got ${JSON.stringify(fraction)}`);
  const seed = opts.seed ?? 0;
  if (!Number.isInteger(seed)) throw new ConfigError(`${where}: seed must be an integer, got ${JSON.stringify(seed)}`);
  const maxTries = opts.maxTries ?? 12;
  if (!Number.isInteger(maxTries) || maxTries < 1) throw new ConfigError(`${where}: maxTries must be an integer ≥ 1, got ${JSON.stringify(maxTries)}`);
  return { types, editsByType, fraction, seed, paired: opts.paired ?? false, maxTries };
}

/** Try a family's edits (seeded order, cycling) until one changes the text. */
function firstEdit<E extends TextEditResult>(original: string, edits: readonly AnomalyEdit[], maxTries: number, rng: Rng, tryEdit: (edit: AnomalyEdit, rng: Rng) => E | undefined): [AnomalyEdit, E] | undefined {
  let order: AnomalyEdit[] = [];
  for (let k = 0; k < maxTries; k++) {
    if (order.length === 0) order = shuffled(rng, edits);
    const edit = order.shift() as AnomalyEdit;
    const r = tryEdit(edit, rng);
    if (r !== undefined && r.text !== original) return [edit, r];
  }
  return undefined;
}

/**
 * Build the dataset.
 * @param originals Source texts (the normal rows).
 * @param c Checked options.
 * @param where Function name for messages.
 * @param tryEdit One edit of source row `i`, or undefined.
 * @param decorate Add per-input fields to a row (the edit result is undefined for normal rows).
 * @returns The dataset.
 */
export function buildAnomalyDataset<E extends TextEditResult, R extends AnomalyExample>(
  originals: readonly string[],
  c: CheckedOptions,
  where: string,
  tryEdit: (i: number, edit: AnomalyEdit, rng: Rng) => E | undefined,
  decorate: (row: AnomalyExample, e: E | undefined) => R,
): AnomalyDataset<R> {
  const n = originals.length;
  if (n === 0) throw new DatasetError(`${where}: no input rows — expected at least one text or row`);
  const rng = seededRng(c.seed);
  const order = shuffled(rng, originals.map((_, i) => i));
  const nAnom = Math.round(c.fraction * n);
  const typeOf = new Map<number, AnomalyType>(order.slice(0, nAnom).map((i, k) => [i, c.types[k % c.types.length] as AnomalyType]));
  const zero = (): Record<AnomalyType, number> => ({ typo: 0, format: 0, semantic: 0 });
  const byType = zero();
  const skips = zero();
  const byEdit: Partial<Record<AnomalyEdit, number>> = {};
  const rows: R[] = [];
  const normal = (i: number): R => decorate({ text: originals[i] as string, original: originals[i] as string, label: 0, type: 'normal', edit: 'none', spans: [], detail: '', source: i }, undefined);
  for (let i = 0; i < n; i++) {
    const original = originals[i] as string;
    const t = typeOf.get(i);
    if (c.paired || t === undefined) rows.push(normal(i));
    if (t === undefined) continue;
    const got = firstEdit(original, c.editsByType.get(t) ?? [], c.maxTries, rng, (edit, r) => tryEdit(i, edit, r));
    if (got === undefined) {
      skips[t]++;
      continue;
    }
    const [edit, e] = got;
    byType[t]++;
    byEdit[edit] = (byEdit[edit] ?? 0) + 1;
    rows.push(decorate({ text: e.text, original, label: 1, type: t, edit, spans: e.spans, detail: e.detail, source: i }, e));
  }
  const anomalous = rows.filter((r) => r.label === 1).length;
  return {
    rows,
    texts: rows.map((r) => r.text),
    labels: rows.map((r) => r.label),
    counts: { normal: rows.length - anomalous, anomalous, byType, byEdit },
    skipped: { total: skips.typo + skips.format + skips.semantic, byType: skips },
    seed: c.seed,
  };
}
