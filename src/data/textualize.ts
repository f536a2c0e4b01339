/**
 * Tabular rows → text, for fine-tuning a text classifier on tabular data: sentences
 * ("glucose is 148 mg/dL, blood pressure is 72 mm Hg, insulin is unknown.") or key-value text
 * ("glucose: 148 | blood pressure: 72 | insulin: unknown"). Numbers are rounded per column or
 * globally, or replaced by bin labels (given edges, or quantile edges fitted with
 * {@link quantileBins} — fit them on the training rows only). Column subset and order are options.
 * The output depends only on the row, the schema and the options (deterministic).
 */
import { ConfigError } from '../errors.js';
import { closeName } from '../utils/nearest.js';
import type { TabularColumn, TabularDataset, TabularRow, TabularSchema, TabularValue } from './tabular.js';

/** Bins of one numeric column: `labels[i]` covers `edges[i-1] ≤ v < edges[i]`. @category Data */
export interface TabularBins {
  /** Strictly increasing cut points (k − 1 of them for k labels). */
  readonly edges: readonly number[];
  /** One label per bin, lowest first (e.g. ['low', 'normal', 'high']). */
  readonly labels: readonly string[];
}

/** Options of {@link textualizeRow} and {@link textualizeRows}. @category Data */
export interface TextualizeOptions {
  /** 'sentence' (default): "glucose is 148 mg/dL, …." ; 'keyValue': "glucose: 148 | …". */
  readonly format?: 'sentence' | 'keyValue';
  /** Columns to write, in this order (default: every non-id schema column, in schema order). */
  readonly columns?: readonly string[];
  /** Decimal places: one number for every numeric column, or per column; overrides the schema's `digits`. Trailing zeros are trimmed. */
  readonly digits?: number | Readonly<Record<string, number>>;
  /** Numeric columns written as bin labels instead of numbers (units are then left out). */
  readonly bins?: Readonly<Record<string, TabularBins>>;
  /** Write units after numbers (default: true for sentences, false for key-value text). */
  readonly units?: boolean;
  /** Word for a missing or unknown value (default 'unknown'). */
  readonly unknownText?: string;
  /** Text between fields (default ', ' for sentences, ' | ' for key-value text). */
  readonly separator?: string;
}

/** One row as text, with its label. @category Data */
export interface TabularText {
  /** The row as text. */
  readonly text: string;
  /** The label as written in the file. */
  readonly label: string;
  /** Whether the label is the anomaly (positive) class. */
  readonly anomaly: boolean;
  /** 1-based line of the row in its file. */
  readonly line: number;
}

/** Options checked against the schema, ready to apply to rows. */
interface Compiled {
  readonly columns: readonly TabularColumn[];
  readonly digits: ReadonlyMap<string, number | undefined>;
  readonly bins: ReadonlyMap<string, TabularBins>;
  readonly sentence: boolean;
  readonly units: boolean;
  readonly unknownText: string;
  readonly separator: string;
}

/** The schema column called `name`, or a ConfigError naming the nearest one. */
function columnOf(schema: TabularSchema, name: string, where: string): TabularColumn {
  const col = schema.columns.find((c) => c.name === name);
  if (col !== undefined) return col;
  const names = schema.columns.map((c) => c.name);
  const hint = name === schema.label.column ? ' — it is the label column, which is never written as text' : '';
  const near = hint === '' ? closeName(name, names) : undefined;
  throw new ConfigError(`${where}: unknown column '${name}' in schema '${schema.name}'${hint}${near === undefined ? '' : ` — did you mean '${near}'?`} (valid: ${names.join(', ')})`);
}

function checkDigits(d: unknown, where: string): number {
  if (!Number.isInteger(d) || (d as number) < 0 || (d as number) > 12) throw new ConfigError(`${where}: digits must be an integer 0–12, got ${JSON.stringify(d)}`);
  return d as number;
}

function checkBins(b: TabularBins, col: TabularColumn, where: string): TabularBins {
  if (col.kind !== 'numeric') throw new ConfigError(`${where}: bins for '${col.name}', a ${col.kind} column — expected bins on numeric columns only`);
  const ok = Array.isArray(b.edges) && b.edges.every((e, i) => Number.isFinite(e) && (i === 0 || e > (b.edges[i - 1] as number)));
  if (!ok) throw new ConfigError(`${where}: bins for '${col.name}' need strictly increasing finite edges, got ${JSON.stringify(b.edges)}`);
  if (!Array.isArray(b.labels) || b.labels.length !== b.edges.length + 1 || !b.labels.every((l) => typeof l === 'string')) {
    throw new ConfigError(`${where}: bins for '${col.name}' need ${b.edges.length + 1} labels for ${b.edges.length} edges, got ${JSON.stringify(b.labels)}`);
  }
  return b;
}

/** Check the options against the schema once. */
function compile(schema: TabularSchema, opts: TextualizeOptions, where: string): Compiled {
  const format = opts.format ?? 'sentence';
  if (format !== 'sentence' && format !== 'keyValue') throw new ConfigError(`${where}: format must be 'sentence' or 'keyValue', got ${JSON.stringify(format)}`);
  const columns = opts.columns === undefined ? schema.columns.filter((c) => c.kind !== 'id') : opts.columns.map((n) => columnOf(schema, n, where));
  if (columns.length === 0) throw new ConfigError(`${where}: no columns to write — expected at least one column`);
  const dupe = columns.find((c, i) => columns.indexOf(c) !== i);
  if (dupe !== undefined) throw new ConfigError(`${where}: column '${dupe.name}' is listed twice in columns`);
  const digits = new Map<string, number | undefined>(schema.columns.map((c) => [c.name, c.digits]));
  if (typeof opts.digits === 'number') {
    const d = checkDigits(opts.digits, where);
    for (const c of schema.columns) digits.set(c.name, d);
  } else if (opts.digits !== undefined) {
    for (const [n, d] of Object.entries(opts.digits)) digits.set(columnOf(schema, n, `${where} digits`).name, checkDigits(d, `${where} digits.${n}`));
  }
  const bins = new Map<string, TabularBins>();
  for (const [n, b] of Object.entries(opts.bins ?? {})) bins.set(n, checkBins(b, columnOf(schema, n, `${where} bins`), where));
  const sentence = format === 'sentence';
  return {
    columns,
    digits,
    bins,
    sentence,
    units: opts.units ?? sentence,
    unknownText: opts.unknownText ?? 'unknown',
    separator: opts.separator ?? (sentence ? ', ' : ' | '),
  };
}

/**
 * Write a number with at most `digits` decimal places, trailing zeros trimmed (`148.0` → `148`,
 * `-0` → `0`); without `digits`, JavaScript's shortest form (the value as written in a CSV file).
 * @param v The number.
 * @param digits Decimal places (0–12), or undefined.
 * @returns The text.
 * @throws nothing
 * @example formatTabularNumber(33.649, 1)  // '33.6'
 * @category Data
 */
export function formatTabularNumber(v: number, digits?: number): string {
  if (digits === undefined) return String(v);
  let s = v.toFixed(digits);
  if (s.includes('.')) s = s.replace(/0+$/, '').replace(/\.$/, '');
  return s === '-0' ? '0' : s;
}

/** Index of the bin holding `v`: the number of edges ≤ v. */
function binIndex(v: number, edges: readonly number[]): number {
  let i = 0;
  while (i < edges.length && v >= (edges[i] as number)) i++;
  return i;
}

/** One value as text (without the column name). */
function valueText(v: TabularValue, col: TabularColumn, c: Compiled): string {
  if (v === null) return c.unknownText;
  if (typeof v === 'string') return col.values?.[v] ?? v;
  const bins = c.bins.get(col.name);
  if (bins !== undefined) return bins.labels[binIndex(v, bins.edges)] as string;
  const num = formatTabularNumber(v, c.digits.get(col.name));
  return c.units && col.unit !== undefined ? `${num} ${col.unit}` : num;
}

function render(row: TabularRow, c: Compiled): string {
  const parts = c.columns.map((col) => {
    const value = valueText(row.values[col.name] ?? null, col, c);
    return c.sentence ? `${col.display} is ${value}` : `${col.display}: ${value}`;
  });
  return c.sentence ? `${parts.join(c.separator)}.` : parts.join(c.separator);
}

/**
 * Write one row as text.
 * @param row A row of a {@link TabularDataset}.
 * @param schema Its schema.
 * @param opts Format, columns, digits, bins, units.
 * @returns The text, e.g. "glucose is 148 mg/dL, blood pressure is 72 mm Hg, insulin is unknown."
 * @throws {@link "tfjs-lens"!ConfigError} for an unknown column in `columns`, `digits` or `bins` (naming
 *   the nearest valid column), the label column, a repeated column, bad digits or bad bins.
 * @example textualizeRow(pima.rows[0], pima.schema, { format: 'keyValue', columns: ['glucose', 'mass'] })  // 'glucose: 148 | BMI: 33.6'
 * @category Data
 */
export function textualizeRow(row: TabularRow, schema: TabularSchema, opts: TextualizeOptions = {}): string {
  return render(row, compile(schema, opts, 'textualizeRow'));
}

/**
 * Write every row of a dataset as text, with its label and anomaly flag (file order).
 * @param data A parsed dataset (from `readTabularCsv` or `parseTabularCsv`).
 * @param opts Format, columns, digits, bins, units.
 * @returns One text per row.
 * @throws {@link "tfjs-lens"!ConfigError} as {@link textualizeRow}.
 * @example const texts = textualizeRows(pima, { digits: 1 });  // texts[0].text, texts[0].anomaly
 * @category Data
 */
export function textualizeRows(data: TabularDataset, opts: TextualizeOptions = {}): TabularText[] {
  const c = compile(data.schema, opts, 'textualizeRows');
  return data.rows.map((row) => ({ text: render(row, c), label: row.label, anomaly: row.anomaly, line: row.line }));
}

/**
 * Quantile bins of a numeric column: `labels.length` bins with about equal counts, edges at the
 * quantiles j/k (linear interpolation between sorted values, numpy's default), unknown values
 * skipped. Fit on training rows only, then pass the result in `bins` for every split.
 * @param rows Rows to fit on (e.g. the training split).
 * @param schema Their schema.
 * @param column A numeric column.
 * @param labels Bin labels, lowest first (at least 2).
 * @returns Edges and labels for {@link TextualizeOptions.bins}.
 * @throws {@link "tfjs-lens"!ConfigError} for an unknown or non-numeric column, fewer than 2 labels, no
 *   known values, or tied quantiles (many equal values: use fewer bins or give edges).
 * @example const glucose = quantileBins(train, schema, 'glucose', ['low', 'normal', 'high']);
 * @category Data
 */
export function quantileBins(rows: readonly TabularRow[], schema: TabularSchema, column: string, labels: readonly string[]): TabularBins {
  const fn = 'quantileBins';
  const col = columnOf(schema, column, fn);
  if (col.kind !== 'numeric') throw new ConfigError(`${fn}: '${column}' is a ${col.kind} column — expected a numeric one`);
  if (labels.length < 2) throw new ConfigError(`${fn}: expected at least 2 labels, got ${labels.length}`);
  const xs = rows.map((r) => r.values[column]).filter((v): v is number => typeof v === 'number').sort((a, b) => a - b);
  if (xs.length === 0) throw new ConfigError(`${fn}: column '${column}' has no known values in the ${rows.length} rows given`);
  const k = labels.length;
  const edges: number[] = [];
  for (let j = 1; j < k; j++) {
    const pos = (j / k) * (xs.length - 1);
    const lo = Math.floor(pos);
    const hi = Math.min(lo + 1, xs.length - 1);
    const e = (xs[lo] as number) + (pos - lo) * ((xs[hi] as number) - (xs[lo] as number));
    if (edges.length > 0 && e <= (edges.at(-1) as number)) {
      throw new ConfigError(`${fn}: quantiles of '${column}' tie at ${e} — too many equal values for ${k} bins [use fewer labels or give edges]`);
    }
    edges.push(e);
  }
  return { edges, labels: [...labels] };
}
