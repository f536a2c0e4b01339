/**
 * Data of `tfjs-lens finetune` and `classify`: labelled texts from a CSV/TSV (header row; the
 * shipped SMSSpamCollection, `label<TAB>text` without a header, by name `sms_spam` or path) or from a
 * tabular CSV and its schema (rows textualised), the stratified train / val / test parts of one run
 * or of k folds, and the seeded few-label subsample of a training part.
 */
import { readFileSync, existsSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { parseCsv, parseTsv, type DelimitedRecord } from '../../data/delimited.js';
import { stratifiedKFold } from '../../data/kfold.js';
import { loadTabularSchema, readTabularCsv } from '../../data/tabular.js';
import { textualizeRows } from '../../data/textualize.js';
import { UsageError } from '../../errors.js';
import { seededRng } from '../../utils/rng.js';
import { didYouMean } from '../cli_args.js';
import { packageRoot } from './paths.js';

/** Texts with a class id per row and the class names (index = class id; sorted label values). */
export interface LabelledTexts {
  /** The texts. */
  readonly texts: string[];
  /** Class id per text. */
  readonly labels: number[];
  /** Class names, index = class id (binary: class 1 is the positive / anomaly class). */
  readonly classNames: string[];
  /** Where the rows came from. */
  readonly source: string;
}

/** Row indices of one run: train (after the label fraction), val (choices) and test (reported). */
export interface SplitIdx {
  /** Rows trained on. */
  readonly train: number[];
  /** Rows every choice (temperature, threshold) is made on. */
  readonly val: number[];
  /** Rows the reported figures come from. */
  readonly test: number[];
}

/** The shipped SMS Spam Collection: `label<TAB>text`, no header. */
export function smsSpamPath(): string {
  return join(packageRoot(), 'data', 'sms_spam', 'SMSSpamCollection');
}

function columnIndex(cmd: string, header: readonly string[], name: string, option: string, source: string): number {
  const i = header.indexOf(name);
  if (i >= 0) return i;
  if (/^\d+$/.test(name) && Number(name) < header.length) return Number(name);
  throw new UsageError(`${cmd}: ${option} '${name}' is not a column of ${source}${didYouMean(name, header)}; columns: ${header.join(', ')} (or a 0-based index)`);
}

/** Records of a delimited file and its header (SMSSpamCollection: the header `label, text`). */
function readRecords(cmd: string, path: string): { header: string[]; rows: DelimitedRecord[] } {
  if (!existsSync(path)) throw new UsageError(`${cmd}: --data file '${path}' does not exist; pass a CSV/TSV with a header row, or sms_spam for the shipped SMS data`);
  const text = readFileSync(path, 'utf8');
  if (basename(path) === 'SMSSpamCollection') return { header: ['label', 'text'], rows: parseTsv(text, path, 2) };
  if (extname(path).toLowerCase() === '.tsv') {
    const n = (text.split('\n')[0] ?? '').split('\t').length;
    const [h, ...rows] = parseTsv(text, path, n);
    return { header: h?.fields ?? [], rows };
  }
  const [h, ...rows] = parseCsv(text, path);
  return { header: h?.fields ?? [], rows };
}

/** Class ids of label strings: sorted distinct values (ham < spam, neg < pos, benign < malignant). */
function encodeLabels(values: readonly string[]): { labels: number[]; classNames: string[] } {
  const classNames = [...new Set(values)].sort();
  const id = new Map(classNames.map((c, i) => [c, i]));
  return { labels: values.map((v) => id.get(v) as number), classNames };
}

/**
 * Labelled texts of a CSV/TSV with a header row (or `sms_spam` / the SMSSpamCollection file).
 * @param cmd Command name for messages.
 * @param data Path, or `sms_spam`.
 * @param textColumn Text column name or 0-based index (default 'text').
 * @param labelColumn Label column name or index (default 'label').
 * @returns Texts, class ids and class names.
 * @throws {@link "tfjs-lens"!UsageError} for a missing file or column, or fewer than 2 classes.
 */
export function readTextData(cmd: string, data: string, textColumn = 'text', labelColumn = 'label'): LabelledTexts {
  const path = data === 'sms_spam' ? smsSpamPath() : data;
  const { header, rows } = readRecords(cmd, path);
  const ti = columnIndex(cmd, header, textColumn, '--text-column', path);
  const li = columnIndex(cmd, header, labelColumn, '--label-column', path);
  const kept = rows.filter((r) => (r.fields[ti] ?? '').trim() !== '' && (r.fields[li] ?? '').trim() !== '');
  const { labels, classNames } = encodeLabels(kept.map((r) => (r.fields[li] as string).trim()));
  if (classNames.length < 2) throw new UsageError(`${cmd}: --label-column '${labelColumn}' of ${path} has ${classNames.length} distinct value(s); a classifier needs at least 2`);
  return { texts: kept.map((r) => r.fields[ti] as string), labels, classNames, source: path };
}

/**
 * Texts only (classify): a CSV/TSV's text column, or every text of the SMS data.
 * @param cmd Command name.
 * @param data Path or `sms_spam`.
 * @param textColumn Column name or index.
 * @returns The texts.
 */
export function readTexts(cmd: string, data: string, textColumn = 'text'): string[] {
  const path = data === 'sms_spam' ? smsSpamPath() : data;
  const { header, rows } = readRecords(cmd, path);
  const ti = columnIndex(cmd, header, textColumn, '--text-column', path);
  return rows.map((r) => r.fields[ti] ?? '').filter((t) => t.trim() !== '');
}

/** Shipped tabular files: data/tabular/<file> (UCI, CC BY 4.0; not in the npm package). */
export const SHIPPED_TABULAR: Readonly<Record<string, string>> = { pima: 'pima_indians_diabetes.csv', breast_cancer: 'breast_cancer_wisconsin.csv' };

/**
 * Textualised rows of a tabular CSV: class 1 = the schema's positive (anomaly) class.
 * @param cmd Command name.
 * @param csv Path of the CSV (or `pima` / `breast_cancer` for data/tabular/).
 * @param schema Shipped schema name or a JSON path.
 * @param format 'sentence' or 'keyValue'.
 * @returns Texts, class ids and [negative, positive] class names.
 */
export async function readTabularTexts(cmd: string, csv: string, schema: string, format: 'sentence' | 'keyValue'): Promise<LabelledTexts> {
  const path = Object.hasOwn(SHIPPED_TABULAR, csv) ? join(packageRoot(), 'data', 'tabular', SHIPPED_TABULAR[csv] as string) : csv;
  if (!existsSync(path)) throw new UsageError(`${cmd}: --tabular file '${path}' does not exist; pass a CSV with a header row (pima or breast_cancer for the copies in data/tabular/)`);
  const s = await loadTabularSchema(schema);
  const rows = textualizeRows(await readTabularCsv(path, s), { format });
  const neg = s.label.values?.find((v) => v !== s.label.positive) ?? 'negative';
  return { texts: rows.map((r) => r.text), labels: rows.map((r) => (r.anomaly ? 1 : 0)), classNames: [neg, s.label.positive], source: path };
}

/**
 * A seeded stratified subsample: about `fraction` of each class's rows, at least one per class.
 * @param idx Candidate rows.
 * @param labels Class id of every row (indexed by row).
 * @param fraction In (0, 1].
 * @param seed Seed.
 * @returns The kept rows, ascending.
 */
export function labelFraction(idx: readonly number[], labels: readonly number[], fraction: number, seed: number): number[] {
  if (fraction >= 1) return [...idx];
  const rand = seededRng(seed * 7919 + 17);
  const byClass = new Map<number, number[]>();
  for (const i of idx) byClass.set(labels[i] as number, [...(byClass.get(labels[i] as number) ?? []), i]);
  const out: number[] = [];
  for (const rows of byClass.values()) {
    const a = [...rows];
    for (let i = a.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [a[i], a[j]] = [a[j] as number, a[i] as number];
    }
    for (const i of a.slice(0, Math.max(1, Math.round(a.length * fraction)))) out.push(i); // no spread: classes can be dataset-sized
  }
  return out.sort((x, y) => x - y);
}

/**
 * The parts of each run: one stratified 70 / 10 / 20 train / val / test split (fold 0 of 5 with
 * 1/8 of its training rows for validation), or k stratified folds with 10% validation each.
 * @param labels Class id per row.
 * @param kfold 0 for one split, else k ≥ 2.
 * @param seed Seed of the split.
 * @returns One entry per run.
 */
export function runSplits(labels: readonly number[], kfold: number, seed: number): SplitIdx[] {
  const folds = kfold >= 2 ? stratifiedKFold(labels, { k: kfold, seed, valFraction: 0.1 }) : stratifiedKFold(labels, { k: 5, seed, valFraction: 0.125 }).slice(0, 1);
  return folds.map((f) => ({ train: f.train, val: f.val, test: f.test }));
}
