/**
 * Synthetic anomalies on tabular rows. Semantic shifts act on the row's fields before it is written
 * as text (so "glucose is 148 mg/dL" can become an implausible value, or swap with another field's
 * value, or take a value a context rule forbids); typos and format errors act on the written text.
 */
import { ConfigError } from '../../errors.js';
import { closeName } from '../../utils/nearest.js';
import type { Rng } from '../../utils/rng.js';
import type { TabularColumn, TabularDataset, TabularRow, TabularValue } from '../tabular.js';
import { formatTabularNumber, textualizeRow, textualizeRows, type TextualizeOptions } from '../textualize.js';
import { buildAnomalyDataset, checkOptions, type AnomalyDataset, type AnomalyExample, type AnomalyOptions } from './core.js';
import { checkResources, editText, type TextResources } from './edit_text.js';
import { ANOMALY_EDITS, ANOMALY_TYPES, diffSpan, pick, type AnomalyEdit, type TextEditResult } from './types.js';

/** Options of {@link makeTabularAnomalyDataset}. @category Data */
export interface TabularAnomalyOptions extends AnomalyOptions {
  /** How rows are written as text (as for `textualizeRows`). */
  readonly textualize?: TextualizeOptions;
  /** The column whose value is the context of the contradiction rules (rule fields are column names). */
  readonly contextColumn?: string;
}

/** One row of a tabular synthetic-anomaly dataset. @category Data */
export interface TabularAnomalyExample extends AnomalyExample {
  /** The row's values after the edit (unchanged for normal rows and for typos and format errors, which act on the text). */
  readonly values: Readonly<Record<string, TabularValue>>;
  /** The row's class label as written in the file. */
  readonly rowLabel: string;
  /** 1-based line of the source row in its file. */
  readonly line: number;
}

type Values = Record<string, TabularValue>;
interface TabularEdit extends TextEditResult { readonly values: Values }

/** Observed [min, max] and integrality of each numeric column. */
function numericRanges(data: TabularDataset): Map<string, { lo: number; hi: number; integer: boolean }> {
  const out = new Map<string, { lo: number; hi: number; integer: boolean }>();
  for (const col of data.schema.columns) {
    if (col.kind !== 'numeric') continue;
    const xs = data.rows.map((r) => r.values[col.name]).filter((v): v is number => typeof v === 'number');
    if (xs.length > 0) out.set(col.name, { lo: Math.min(...xs), hi: Math.max(...xs), integer: xs.every(Number.isInteger) });
  }
  return out;
}

/** One semantic edit of a row's values, or undefined. */
function editValues(edit: AnomalyEdit, row: TabularRow, cols: readonly TabularColumn[], data: TabularDataset, ctx: { ranges: ReturnType<typeof numericRanges>; res: TextResources; contextColumn: string | undefined }, rng: Rng): { values: Values; detail: string } | undefined {
  const v = row.values;
  const set = (name: string, value: TabularValue): Values => ({ ...v, [name]: value });
  if (edit === 'field_swap') {
    const pairs: [TabularColumn, TabularColumn][] = [];
    for (const a of cols) for (const b of cols) if (a.name < b.name && a.kind === b.kind && v[a.name] !== null && v[b.name] !== null && v[a.name] !== v[b.name]) pairs.push([a, b]);
    if (pairs.length === 0) return undefined;
    const [a, b] = pick(rng, pairs);
    return { values: { ...v, [a.name]: v[b.name] ?? null, [b.name]: v[a.name] ?? null }, detail: `swapped ${a.name} (${String(v[a.name])}) ↔ ${b.name} (${String(v[b.name])})` };
  }
  if (edit === 'implausible_value') {
    const cands = cols.filter((c) => ctx.ranges.has(c.name));
    if (cands.length === 0) return undefined;
    const col = pick(rng, cands);
    const r = ctx.ranges.get(col.name) as { lo: number; hi: number; integer: boolean };
    const width = r.hi - r.lo || Math.abs(r.hi) || 1;
    const low = r.lo - width * (0.5 + rng());
    const useLow = (r.lo < 0 || low >= 0) && rng() < 0.5;
    let x = useLow ? low : r.hi + width * (0.5 + rng());
    x = r.integer ? Math.round(x) : Number(formatTabularNumber(x, col.digits ?? 2));
    return { values: set(col.name, x), detail: `${col.name} ${String(v[col.name])} → ${x} (observed range ${r.lo}…${r.hi})` };
  }
  if (edit === 'category_swap') {
    const cats = cols.filter((c) => c.kind === 'categorical');
    const seen = (c: TabularColumn): string[] => [...new Set(data.rows.map((r) => r.values[c.name]).filter((x): x is string => typeof x === 'string'))];
    const options: { col: TabularColumn; from: string; value: string }[] = [];
    for (const col of cats) {
      const own = seen(col);
      for (const other of cats) if (other !== col) for (const value of seen(other)) if (!own.includes(value)) options.push({ col, from: other.name, value });
    }
    if (options.length === 0) return undefined;
    const { col, from, value } = pick(rng, options);
    return { values: set(col.name, value), detail: `${col.name} ${String(v[col.name])} → '${value}' (a value of ${from})` };
  }
  if (edit === 'contradiction') {
    if (ctx.contextColumn === undefined) return undefined;
    const context = String(row.values[ctx.contextColumn] ?? '').toLowerCase();
    const options: { field: string; value: string | number; rule: string }[] = [];
    for (const rule of ctx.res.rules) {
      if (rule.context.toLowerCase() !== context || !cols.some((c) => c.name === rule.field)) continue;
      for (const value of rule.values) if (value !== v[rule.field]) options.push({ field: rule.field, value, rule: rule.context });
    }
    if (options.length === 0) return undefined;
    const o = pick(rng, options);
    return { values: set(o.field, o.value), detail: `${o.field} '${String(o.value)}' contradicts ${ctx.contextColumn} '${o.rule}' (was ${String(v[o.field])})` };
  }
  return undefined;
}

/**
 * Make a synthetic-anomaly dataset from tabular rows written as text. Semantic edits
 * (`field_swap`, `implausible_value` outside the column's observed range, `category_swap` to a value
 * of another categorical column, `contradiction` by rules on `contextColumn`) change the fields and
 * then write the row; typos and format errors edit the written text. To corrupt only the normal class,
 * pass `{ ...data, rows: data.rows.filter((r) => !r.anomaly) }`.
 * @param data A parsed dataset (`readTabularCsv` / `parseTabularCsv`).
 * @param opts As {@link makeAnomalyDataset}, plus `textualize` options and `contextColumn`.
 * @returns Rows with text, spans (one diff span for semantic edits), the edited values, the row label and line.
 * @throws {@link "tfjs-lens"!ConfigError} as {@link makeAnomalyDataset}, for an unknown `contextColumn` or
 *   rule field (naming the nearest column), rules without `contextColumn`, and bad textualize options;
 *   {@link "tfjs-lens"!DatasetError} for a dataset without rows.
 * @example const ds = makeTabularAnomalyDataset(pima, { types: ['semantic'], fraction: 0.2, seed: 3, textualize: { digits: 1 } });
 * @category Data
 */
export function makeTabularAnomalyDataset(data: TabularDataset, opts: TabularAnomalyOptions = {}): AnomalyDataset<TabularAnomalyExample> {
  const where = 'makeTabularAnomalyDataset';
  const names = data.schema.columns.map((c) => c.name);
  const contextColumn = opts.contextColumn;
  if (contextColumn !== undefined && !names.includes(contextColumn)) {
    const near = closeName(contextColumn, names);
    throw new ConfigError(`${where}: unknown contextColumn '${contextColumn}'${near === undefined ? '' : ` — did you mean '${near}'?`} (valid: ${names.join(', ')})`);
  }
  if ((opts.rules ?? []).length > 0 && contextColumn === undefined) throw new ConfigError(`${where}: rules need contextColumn (the column whose value the rules' context is compared with; valid: ${names.join(', ')})`);
  const available = ANOMALY_TYPES.flatMap((t) => ANOMALY_EDITS[t]);
  const c = checkOptions(opts, where, available);
  const res = checkResources(opts, where, names);
  const tOpts = opts.textualize ?? {};
  const originals = textualizeRows(data, tOpts).map((t) => t.text); // also checks the textualize options
  const written = tOpts.columns === undefined ? data.schema.columns.filter((col) => col.kind !== 'id') : data.schema.columns.filter((col) => tOpts.columns?.includes(col.name));
  const ctx = { ranges: numericRanges(data), res, contextColumn };
  const contextOf = (row: TabularRow): string | undefined => (contextColumn === undefined ? undefined : String(row.values[contextColumn] ?? ''));
  return buildAnomalyDataset<TabularEdit, TabularAnomalyExample>(
    originals,
    c,
    where,
    (i, edit, rng) => {
      const row = data.rows[i] as TabularRow;
      const original = originals[i] as string;
      if (ANOMALY_EDITS.semantic.includes(edit)) {
        const got = editValues(edit, row, written, data, ctx, rng);
        if (got === undefined) return undefined;
        const text = textualizeRow({ ...row, values: got.values }, data.schema, tOpts);
        return { text, spans: diffSpan(original, text), detail: got.detail, values: got.values };
      }
      const e = editText(edit, original, contextOf(row), rng, res);
      return e === undefined ? undefined : { ...e, values: { ...row.values } };
    },
    (base, e) => {
      const row = data.rows[base.source] as TabularRow;
      return { ...base, values: e?.values ?? { ...row.values }, rowLabel: row.label, line: row.line };
    },
  );
}
