/**
 * Synthetic anomalies on text, seeded and labelled with their family and edit: character-level typos
 * (insert, delete, swap, QWERTY-neighbour substitute), format errors (token reorder, case, unit,
 * number format, delimiter) and semantic shifts (category swap, field swap, context contradictions
 * from user rules). {@link makeAnomalyDataset} returns normal rows (label 0, untouched) and anomalous
 * ones (label 1) with `texts` / `labels` ready for `finetuneClassifier`, or as a benchmark. Tabular
 * rows: see {@link makeTabularAnomalyDataset} (semantic edits act on the fields before textualisation).
 */
import { ConfigError } from '../errors.js';
import { buildAnomalyDataset, checkOptions, type AnomalyDataset, type AnomalyExample, type AnomalyOptions } from './anomalies/core.js';
import { checkResources, editText } from './anomalies/edit_text.js';
import { ANOMALY_TYPES, ANOMALY_EDITS } from './anomalies/types.js';

/** A text with an optional context (category, product line, label…) that contradiction rules match. @category Data */
export interface ContextText {
  /** The text. */
  readonly text: string;
  /** Its context (e.g. 'vegan'). */
  readonly context?: string;
}

/** Edits that apply to free text (all but `implausible_value`). */
const TEXT_EDITS = ANOMALY_TYPES.flatMap((t) => ANOMALY_EDITS[t]).filter((e) => e !== 'implausible_value');

/**
 * Make a synthetic-anomaly dataset from texts: a seeded `fraction` of them become anomalies of the
 * chosen families (round-robin), the rest stay normal. An anomaly is never identical to its original:
 * a row where no edit of its family applies (e.g. no lexicon word for a semantic shift) is skipped
 * and counted in `skipped`.
 * @param texts Texts, or `{ text, context }` items (context feeds the contradiction rules).
 * @param opts Families, edits, fraction, seed, paired mode, lexicon, rules, unit table.
 * @returns Rows (text, original, label, type, edit, spans, detail, source), `texts`, `labels`, counts and skips.
 * @throws {@link "tfjs-lens"!ConfigError} for an unknown family or edit (naming the nearest valid one), a
 *   fraction outside [0, 1], a non-integer seed, a bad lexicon, rule or unit entry, or a non-string text;
 *   {@link "tfjs-lens"!DatasetError} for an empty input.
 * @example
 * const sms = (await loadSmsSpam()).filter((r) => r.label === 'ham').map((r) => r.text);
 * const ds = makeAnomalyDataset(sms.slice(0, 500), { fraction: 0.3, seed: 1 });
 * finetuneClassifier(model, { texts: ds.texts, labels: ds.labels });
 * @category Data
 */
export function makeAnomalyDataset(texts: readonly (string | ContextText)[], opts: AnomalyOptions = {}): AnomalyDataset {
  const where = 'makeAnomalyDataset';
  if (!Array.isArray(texts)) throw new ConfigError(`${where}: texts must be an array of strings or {text, context} items`);
  const items = texts.map((t, i) => {
    const item = typeof t === 'string' ? { text: t } : t;
    if (typeof item?.text !== 'string' || (item.context !== undefined && typeof item.context !== 'string')) throw new ConfigError(`${where}: texts[${i}] must be a string or {text: string, context?: string}, got ${JSON.stringify(t)}`);
    return item;
  });
  const c = checkOptions(opts, where, TEXT_EDITS);
  const res = checkResources(opts, where);
  return buildAnomalyDataset(
    items.map((t) => t.text),
    c,
    where,
    (i, edit, rng) => editText(edit, items[i]?.text ?? '', items[i]?.context, rng, res),
    (row: AnomalyExample) => row,
  );
}
