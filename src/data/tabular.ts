/**
 * Tabular data for the tabular → text anomaly pipeline: a small JSON schema (column names, display
 * names, units, numeric or categorical, the label column and its anomaly value, how missing values
 * are written, and per-column values that mean "unknown" — e.g. Pima's zeros for glucose or
 * insulin), and a strict reader of CSV files under that schema. Every row is checked; a bad row
 * throws a DatasetError naming the file and line. Turn rows into text with `textualize.ts`.
 * Schemas for Pima Indians Diabetes and Breast Cancer Wisconsin ship in `data/schemas/`; the data
 * files themselves are research data and are not shipped.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { ConfigError, NotFoundError } from '../errors.js';
import { closeName } from '../utils/nearest.js';
import { DatasetError } from './dataset_error.js';
import { parseCsv } from './delimited.js';

/** How a column is read and written. @category Data */
export type TabularColumnKind = 'numeric' | 'categorical' | 'id';

/** One column of a tabular schema. @category Data */
export interface TabularColumn {
  /** Header name in the CSV file. */
  readonly name: string;
  /** Name used in text (e.g. 'blood pressure'); default: `name`. */
  readonly display: string;
  /** Unit written after numeric values (e.g. 'mg/dL'); none when absent. */
  readonly unit?: string;
  /** 'numeric' (parsed as a number), 'categorical' (kept as text) or 'id' (kept, never written as text by default). */
  readonly kind: TabularColumnKind;
  /** Decimal places for numeric values (trailing zeros trimmed); default: the value as written in the file. */
  readonly digits?: number;
  /** Values that mean "unknown" in this column (numbers for numeric columns, e.g. Pima's `0` glucose). */
  readonly unknown: readonly (number | string)[];
  /** Categorical values → words in text (e.g. `{"1": "yes"}`); unmapped values are written as stored. */
  readonly values?: Readonly<Record<string, string>>;
}

/** The label column and its anomaly (positive) class. @category Data */
export interface TabularLabel {
  /** Header name of the label column. */
  readonly column: string;
  /** The label value of the anomaly / positive class (e.g. 'pos', 'malignant'). */
  readonly positive: string;
  /** Every allowed label value, when the schema lists them (others are a DatasetError). */
  readonly values?: readonly string[];
}

/** A tabular data schema (the JSON of `data/schemas/*.json`, validated). @category Data */
export interface TabularSchema {
  /** Short name (e.g. 'pima'). */
  readonly name: string;
  /** Feature and id columns, in their default text order. */
  readonly columns: readonly TabularColumn[];
  /** The label column. */
  readonly label: TabularLabel;
  /** How a missing value is written in the file (any column); default `["NA", ""]`. */
  readonly missing: readonly string[];
  /** Free text: source, licence, notes. */
  readonly description?: string;
}

/** A cell: a number (numeric columns), a string (categorical and id columns), or null (missing or unknown). @category Data */
export type TabularValue = number | string | null;

/** One parsed row. @category Data */
export interface TabularRow {
  /** Column name → value, for every schema column. */
  readonly values: Readonly<Record<string, TabularValue>>;
  /** The label as written in the file. */
  readonly label: string;
  /** Whether the label is the schema's positive (anomaly) class. */
  readonly anomaly: boolean;
  /** 1-based line of the row in the file. */
  readonly line: number;
}

/** A parsed tabular file. @category Data */
export interface TabularDataset {
  /** The schema it was read with. */
  readonly schema: TabularSchema;
  /** File name, for messages. */
  readonly source: string;
  /** The rows, in file order. */
  readonly rows: readonly TabularRow[];
}

/** Names of the schemas shipped in `data/schemas/`. @category Data */
export type ShippedTabularSchema = 'pima' | 'breast_cancer';

const SHIPPED: readonly ShippedTabularSchema[] = ['pima', 'breast_cancer'];
const KINDS: readonly TabularColumnKind[] = ['numeric', 'categorical', 'id'];

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Throw a ConfigError for an unknown key, naming the nearest valid one. */
function checkKeys(obj: Record<string, unknown>, valid: readonly string[], where: string): void {
  for (const k of Object.keys(obj)) {
    if (valid.includes(k)) continue;
    const near = closeName(k, valid);
    throw new ConfigError(`${where}: unknown key '${k}'${near === undefined ? '' : ` — did you mean '${near}'?`} (expected ${valid.join(', ')})`);
  }
}

function optString(v: unknown, where: string): string | undefined {
  if (v === undefined || typeof v === 'string') return v;
  throw new ConfigError(`${where}: expected a string, got ${JSON.stringify(v)}`);
}

function stringList(v: unknown, where: string): string[] | undefined {
  if (v === undefined) return undefined;
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
  throw new ConfigError(`${where}: expected an array of strings, got ${JSON.stringify(v)}`);
}

/** Validate one column entry. */
function parseColumn(raw: unknown, where: string): TabularColumn {
  if (!isRecord(raw)) throw new ConfigError(`${where}: expected an object {name, display?, unit?, kind?, digits?, unknown?, values?}, got ${JSON.stringify(raw)}`);
  checkKeys(raw, ['name', 'display', 'unit', 'kind', 'digits', 'unknown', 'values'], where);
  const name = raw['name'];
  if (typeof name !== 'string' || name === '') throw new ConfigError(`${where}: expected a non-empty string 'name', got ${JSON.stringify(name)}`);
  const at = `${where} ('${name}')`;
  const kind = raw['kind'] ?? 'numeric';
  if (!KINDS.includes(kind as TabularColumnKind)) throw new ConfigError(`${at}: kind must be one of ${KINDS.join(', ')}, got ${JSON.stringify(kind)}`);
  const digits = raw['digits'];
  if (digits !== undefined && (!Number.isInteger(digits) || (digits as number) < 0 || (digits as number) > 12)) {
    throw new ConfigError(`${at}: digits must be an integer 0–12, got ${JSON.stringify(digits)}`);
  }
  const unknown = raw['unknown'] ?? [];
  const okUnknown = Array.isArray(unknown) && unknown.every((u) => (kind === 'numeric' ? typeof u === 'number' && Number.isFinite(u) : typeof u === 'string'));
  if (!okUnknown) throw new ConfigError(`${at}: unknown must be an array of ${kind === 'numeric' ? 'numbers' : 'strings'}, got ${JSON.stringify(unknown)}`);
  const values = raw['values'];
  if (values !== undefined && !(isRecord(values) && Object.values(values).every((x) => typeof x === 'string'))) {
    throw new ConfigError(`${at}: values must map stored values to words ({"1": "yes"}), got ${JSON.stringify(values)}`);
  }
  const unit = optString(raw['unit'], `${at}: unit`);
  const display = optString(raw['display'], `${at}: display`) ?? name;
  return {
    name,
    display,
    kind: kind as TabularColumnKind,
    unknown: unknown as (number | string)[],
    ...(unit === undefined ? {} : { unit }),
    ...(digits === undefined ? {} : { digits: digits as number }),
    ...(values === undefined ? {} : { values: values as Record<string, string> }),
  };
}

/**
 * Validate a tabular schema (the parsed JSON of a schema file).
 * @param json Parsed JSON: `{name, columns: [{name, display?, unit?, kind?, digits?, unknown?, values?}], label: {column, positive, values?}, missing?, description?}`.
 * @param source File name for messages.
 * @returns The schema (defaults filled: `display` = name, `kind` = 'numeric', `missing` = ["NA", ""]).
 * @throws {@link "tfjs-lens"!ConfigError} for a missing or mistyped field, an unknown key (naming the
 *   nearest valid key), a repeated column, or a label column that is also a feature column.
 * @example const schema = parseTabularSchema(JSON.parse(text), 'pima.json');
 * @category Data
 */
export function parseTabularSchema(json: unknown, source: string): TabularSchema {
  const where = `parseTabularSchema: ${source}`;
  if (!isRecord(json)) throw new ConfigError(`${where}: expected a JSON object {name, columns, label, missing?}, got ${JSON.stringify(json)?.slice(0, 80)}`);
  checkKeys(json, ['name', 'columns', 'label', 'missing', 'description'], where);
  const name = json['name'];
  if (typeof name !== 'string' || name === '') throw new ConfigError(`${where}: expected a non-empty string 'name', got ${JSON.stringify(name)}`);
  const rawCols = json['columns'];
  if (!Array.isArray(rawCols) || rawCols.length === 0) throw new ConfigError(`${where}: expected a non-empty array 'columns', got ${JSON.stringify(rawCols)?.slice(0, 80)}`);
  const columns = rawCols.map((c, i) => parseColumn(c, `${where} columns[${i}]`));
  const seen = new Set<string>();
  for (const c of columns) {
    if (seen.has(c.name)) throw new ConfigError(`${where}: column '${c.name}' is listed twice — expected each column once`);
    seen.add(c.name);
  }
  const label = json['label'];
  if (!isRecord(label)) throw new ConfigError(`${where}: expected 'label': {column, positive, values?}, got ${JSON.stringify(label)}`);
  checkKeys(label, ['column', 'positive', 'values'], `${where} label`);
  const column = label['column'];
  const positive = label['positive'];
  if (typeof column !== 'string' || typeof positive !== 'string') {
    throw new ConfigError(`${where}: label needs string 'column' and 'positive' (the anomaly class), got ${JSON.stringify(label)}`);
  }
  if (seen.has(column)) throw new ConfigError(`${where}: label column '${column}' is also in columns — expected it only under label`);
  const values = stringList(label['values'], `${where} label.values`);
  if (values !== undefined && !values.includes(positive)) {
    throw new ConfigError(`${where}: label.positive '${positive}' is not in label.values (${values.join(', ')})`);
  }
  const missing = stringList(json['missing'], `${where} missing`) ?? ['NA', ''];
  const description = optString(json['description'], `${where} description`);
  return {
    name,
    columns,
    label: { column, positive, ...(values === undefined ? {} : { values }) },
    missing,
    ...(description === undefined ? {} : { description }),
  };
}

/**
 * Load a tabular schema: a shipped one by name ('pima', 'breast_cancer' in `data/schemas/`) or a JSON file by path.
 * @param nameOrPath 'pima', 'breast_cancer', or a path ending in `.json`.
 * @returns The validated schema.
 * @throws {@link "tfjs-lens"!ConfigError} for an unknown name (naming the nearest) or an invalid schema.
 * @throws {@link "tfjs-lens"!NotFoundError} when the file does not exist.
 * @example const schema = await loadTabularSchema('pima');
 * @category Data
 */
export async function loadTabularSchema(nameOrPath: string): Promise<TabularSchema> {
  const fn = 'loadTabularSchema';
  let path = nameOrPath;
  if (!nameOrPath.endsWith('.json')) {
    if (!SHIPPED.includes(nameOrPath as ShippedTabularSchema)) {
      const near = closeName(nameOrPath, SHIPPED);
      throw new ConfigError(`${fn}: unknown schema '${nameOrPath}'${near === undefined ? '' : ` — did you mean '${near}'?`} (expected ${SHIPPED.join(', ')}, or a path to a .json file)`);
    }
    path = fileURLToPath(new URL(`../../data/schemas/${nameOrPath}.json`, import.meta.url));
  }
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new NotFoundError(`${fn}: file not found: ${path}`);
    throw new ConfigError(`${fn}: cannot read ${path} — ${(err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`${fn}: ${path} is not valid JSON — ${(err as Error).message}`);
  }
  return parseTabularSchema(json, path);
}

/** Column index of each schema column (and the label) in the header; ConfigError naming the nearest header name. */
function headerIndex(header: readonly string[], schema: TabularSchema, source: string): Map<string, number> {
  const index = new Map<string, number>();
  for (const name of [...schema.columns.map((c) => c.name), schema.label.column]) {
    const i = header.indexOf(name);
    if (i < 0) {
      const near = closeName(name, header);
      throw new ConfigError(
        `parseTabularCsv: schema '${schema.name}' names column '${name}', which ${source} does not have` +
          `${near === undefined ? '' : ` — did you mean '${near}'?`} (header: ${header.join(', ')})`,
      );
    }
    index.set(name, i);
  }
  return index;
}

/** Parse one cell under its column. */
function parseCell(raw: string, col: TabularColumn, schema: TabularSchema, where: string): TabularValue {
  if (schema.missing.includes(raw)) return null;
  if (col.kind !== 'numeric') return col.unknown.includes(raw) ? null : raw;
  const v = raw.trim() === '' ? NaN : Number(raw);
  if (!Number.isFinite(v)) {
    throw new DatasetError(`${where}: column '${col.name}' expected a number or a missing marker (${schema.missing.map((m) => JSON.stringify(m)).join(', ')}), got ${JSON.stringify(raw)}`);
  }
  return col.unknown.includes(v) ? null : v;
}

/**
 * Parse CSV text (RFC 4180, header row first) under a schema. Missing markers and the column's
 * "unknown" values become `null`; the CSV may have more columns than the schema (they are ignored).
 * @param text File contents.
 * @param source File name for messages.
 * @param schema The schema.
 * @returns The rows with typed values, label and anomaly flag.
 * @throws {@link "tfjs-lens"!ConfigError} when the schema names a column the header lacks (naming the nearest header name).
 * @throws {@link "tfjs-lens"!DatasetError} for bad CSV (see `parseCsv`), no rows, a row with another
 *   field count, a non-number in a numeric column, or a missing or unlisted label — naming file and line.
 * @example const data = parseTabularCsv(await readFile(p, 'utf8'), p, await loadTabularSchema('pima'));
 * @category Data
 */
export function parseTabularCsv(text: string, source: string, schema: TabularSchema): TabularDataset {
  const [header, ...records] = parseCsv(text, source);
  if (header === undefined || records.length === 0) throw new DatasetError(`parseTabularCsv: ${source} has a header but no rows`);
  const index = headerIndex(header.fields, schema, source);
  const { label } = schema;
  const rows = records.map(({ fields, line }): TabularRow => {
    const where = `parseTabularCsv: ${source} line ${line}`;
    if (fields.length !== header.fields.length) throw new DatasetError(`${where}: expected ${header.fields.length} fields (as the header), got ${fields.length}`);
    const values: Record<string, TabularValue> = {};
    for (const col of schema.columns) values[col.name] = parseCell(fields[index.get(col.name) as number] as string, col, schema, where);
    const y = fields[index.get(label.column) as number] as string;
    if (schema.missing.includes(y)) throw new DatasetError(`${where}: label column '${label.column}' is missing (${JSON.stringify(y)}) — expected a label on every row`);
    if (label.values !== undefined && !label.values.includes(y)) {
      throw new DatasetError(`${where}: unknown label ${JSON.stringify(y)} in column '${label.column}' (expected ${label.values.join('|')})`);
    }
    return { values, label: y, anomaly: y === label.positive, line };
  });
  return { schema, source, rows };
}

/**
 * Read a CSV file under a schema (see {@link parseTabularCsv}).
 * @param path The CSV file (e.g. `pima_indians_diabetes.csv`; the data files are not shipped).
 * @param schema The schema, e.g. from {@link loadTabularSchema}.
 * @returns The parsed rows.
 * @throws {@link "tfjs-lens"!NotFoundError} when the file does not exist; otherwise as {@link parseTabularCsv}.
 * @example const pima = await readTabularCsv('data/pima_indians_diabetes.csv', await loadTabularSchema('pima'));
 * @category Data
 */
export async function readTabularCsv(path: string, schema: TabularSchema): Promise<TabularDataset> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new NotFoundError(`readTabularCsv: file not found: ${path}`);
    throw new DatasetError(`readTabularCsv: cannot read ${path} — ${(err as Error).message}`);
  }
  return parseTabularCsv(text, path, schema);
}
