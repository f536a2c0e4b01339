/**
 * Typed loaders for the corpora shipped in `data/` (see data/README.md for sources and licences):
 * SMS Spam Collection (TSV `label\ttext`), AG News (quoted CSV `"class","title","description"`),
 * the IMDB subset (CSV with header `id,rating,label,file,text`) and LIAR (14-column TSV, no
 * quoting). Every row is checked; a bad row or an empty file throws — no partial results.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, NotFoundError } from '../errors.js';
import { DatasetError } from './dataset_error.js';
import { parseCsv, parseTsv } from './delimited.js';
import { seededSplit } from './split.js';

/** One labelled text. @category Data */
export interface LabelledText<L extends string = string> {
  /** The text (AG News: title and description joined by a newline). */
  readonly text: string;
  /** The label, as named by the dataset. */
  readonly label: L;
}

/** SMS Spam Collection labels. @category Data */
export type SmsLabel = 'ham' | 'spam';
/** AG News classes (classes.txt order: 1 World, 2 Sports, 3 Business, 4 Sci/Tech). @category Data */
export type AgNewsLabel = 'World' | 'Sports' | 'Business' | 'Sci/Tech';
/** IMDB sentiment labels. @category Data */
export type ImdbLabel = 'pos' | 'neg';
/** LIAR truthfulness labels, most false first. @category Data */
export type LiarLabel = 'pants-fire' | 'false' | 'barely-true' | 'half-true' | 'mostly-true' | 'true';

/** The shipped dataset folders. @category Data */
export type CorpusName = 'sms_spam' | 'ag_news' | 'imdb' | 'liar';

/** AG News classes by class index − 1. @category Data */
export const AG_NEWS_CLASSES: readonly AgNewsLabel[] = ['World', 'Sports', 'Business', 'Sci/Tech'];
/** LIAR labels, most false first. @category Data */
export const LIAR_LABELS: readonly LiarLabel[] = ['pants-fire', 'false', 'barely-true', 'half-true', 'mostly-true', 'true'];
/** Seed of the fixed SMS train/test split (80/20). @category Data */
const SMS_SPLIT_SEED = 0;

const NAMES: readonly CorpusName[] = ['sms_spam', 'ag_news', 'imdb', 'liar'];

/**
 * Path of a dataset folder shipped with tfjs-lens (`<package>/data/<name>`), resolved from this
 * module's URL (`src/data/` and `dist/data/` both sit two levels below the package root).
 * `data/liar` exists in the repository only: LIAR is research-only and not published.
 * @param name 'sms_spam', 'ag_news', 'imdb' or 'liar'.
 * @returns Absolute folder path (not checked for existence).
 * @throws {@link "tfjs-lens"!ConfigError} for another name.
 * @example const dir = shippedDataDir('imdb');
 * @category Data
 */
export function shippedDataDir(name: CorpusName): string {
  if (!NAMES.includes(name)) throw new ConfigError(`shippedDataDir: unknown dataset — expected one of ${NAMES.join(', ')}, got '${String(name)}'`);
  return fileURLToPath(new URL(`../../data/${name}`, import.meta.url));
}

async function readText(path: string, fn: string, hint = ''): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new NotFoundError(`${fn}: file not found: ${path}${hint}`);
    throw new DatasetError(`${fn}: cannot read ${path} — ${(err as Error).message}`);
  }
}

function checkLabel<L extends string>(value: string, allowed: readonly L[], where: string): L {
  if (!(allowed as readonly string[]).includes(value)) {
    throw new DatasetError(`${where}: unknown label ${JSON.stringify(value)} (expected ${allowed.join('|')})`);
  }
  return value as L;
}

function checkText(text: string, where: string): string {
  if (text.trim() === '') throw new DatasetError(`${where}: empty text`);
  return text;
}

/** Options of {@link loadSmsSpam}. @category Data */
export interface SmsSpamOptions {
  /** 'all' (default, file order), or the fixed seeded 80/20 'train' / 'test' split. */
  readonly split?: 'all' | 'train' | 'test';
  /** The SMSSpamCollection file (default: the shipped one). */
  readonly path?: string;
}

/**
 * Load the SMS Spam Collection (5,574 messages: 4,827 ham, 747 spam).
 * @param opts split and path.
 * @returns Messages with labels `ham` / `spam`.
 * @throws {@link "tfjs-lens"!NotFoundError} when the file is missing; {@link "tfjs-lens"!DatasetError} when it is empty or a
 *   line has no tab, more than one tab, an unknown label or no text.
 * @example const sms = await loadSmsSpam({ split: 'train' });
 * @category Data
 */
export async function loadSmsSpam(opts: SmsSpamOptions = {}): Promise<LabelledText<SmsLabel>[]> {
  const fn = 'loadSmsSpam';
  const path = opts.path ?? join(shippedDataDir('sms_spam'), 'SMSSpamCollection');
  const rows = parseTsv(await readText(path, fn), path, 2).map(({ fields: [label, text], line }) => {
    const where = `${fn}: ${path} line ${line}`;
    return { label: checkLabel(label as string, ['ham', 'spam'] as const, where), text: checkText(text as string, where) };
  });
  const split = opts.split ?? 'all';
  if (split === 'all') return rows;
  const parts = seededSplit(rows, { testFraction: 0.2, seed: SMS_SPLIT_SEED });
  return split === 'train' ? parts.train : parts.test;
}

/** Options of {@link loadAgNews}. @category Data */
export interface AgNewsOptions {
  /** Folder holding `test.csv` / `train_head581.csv` (default: the shipped one). */
  readonly dir?: string;
  /** Keep fields as stored; by default `\$` → `$` and other backslash line-break escapes → a space. */
  readonly raw?: boolean;
}

/** AG News text clean-up: `\$` is a dollar sign, any other backslash run stands for a line break. */
function cleanAgNews(s: string): string {
  return s.replace(/\\\$/g, '$').replace(/\\+/g, ' ');
}

/**
 * Load AG News. 'test' is the full test split (7,600 rows, 1,900 per class); 'train' is only the
 * first 581 rows of the train split (the full file is not shipped).
 * @param split 'train' or 'test'.
 * @param opts Folder, raw text.
 * @returns Title + '\n' + description, labelled World / Sports / Business / Sci/Tech.
 * @throws {@link "tfjs-lens"!NotFoundError} when the file is missing; {@link "tfjs-lens"!DatasetError} when it is empty or
 *   a row does not have 3 fields, has a class other than 1–4, or an empty title and description.
 * @example const news = await loadAgNews('test');
 * @category Data
 */
export async function loadAgNews(split: 'train' | 'test', opts: AgNewsOptions = {}): Promise<LabelledText<AgNewsLabel>[]> {
  const fn = 'loadAgNews';
  const file = split === 'train' ? 'train_head581.csv' : 'test.csv';
  const path = join(opts.dir ?? shippedDataDir('ag_news'), file);
  return parseCsv(await readText(path, fn), path).map(({ fields, line }) => {
    const where = `${fn}: ${path} line ${line}`;
    if (fields.length !== 3) throw new DatasetError(`${where}: expected 3 fields ("class","title","description"), got ${fields.length}`);
    const [cls, title, desc] = fields as [string, string, string];
    const label = /^[1-4]$/.test(cls) ? AG_NEWS_CLASSES[Number(cls) - 1] : undefined;
    if (label === undefined) throw new DatasetError(`${where}: class must be 1–4, got ${JSON.stringify(cls)}`);
    const clean = opts.raw === true ? (s: string) => s : cleanAgNews;
    return { label, text: checkText(`${clean(title)}\n${clean(desc)}`, where) };
  });
}

/** Options of {@link loadImdb}. @category Data */
export interface ImdbOptions {
  /** Folder holding `imdb_{train,test}_subset.csv` (default: the shipped one). */
  readonly dir?: string;
}

const IMDB_HEADER = ['id', 'rating', 'label', 'file', 'text'];

/**
 * Load the IMDB subset (2,500 reviews per split, 1,250 pos then 1,250 neg). Review text is as in
 * the original files (HTML such as `<br />` kept).
 * @param split 'train' or 'test'.
 * @param opts Folder.
 * @returns Reviews labelled `pos` / `neg`.
 * @throws {@link "tfjs-lens"!NotFoundError} when the file is missing; {@link "tfjs-lens"!DatasetError} when it is empty, the
 *   header is not `id,rating,label,file,text`, or a row has another field count, an unknown label or
 *   no text.
 * @example const reviews = await loadImdb('test');
 * @category Data
 */
export async function loadImdb(split: 'train' | 'test', opts: ImdbOptions = {}): Promise<LabelledText<ImdbLabel>[]> {
  const fn = 'loadImdb';
  const path = join(opts.dir ?? shippedDataDir('imdb'), `imdb_${split}_subset.csv`);
  const [header, ...rows] = parseCsv(await readText(path, fn), path);
  if (header === undefined || header.fields.join(',') !== IMDB_HEADER.join(',')) {
    throw new DatasetError(`${fn}: ${path} line 1: expected header ${IMDB_HEADER.join(',')}, got ${header?.fields.join(',')}`);
  }
  if (rows.length === 0) throw new DatasetError(`${fn}: ${path} has a header but no rows`);
  return rows.map(({ fields, line }) => {
    const where = `${fn}: ${path} line ${line}`;
    if (fields.length !== IMDB_HEADER.length) throw new DatasetError(`${where}: expected ${IMDB_HEADER.length} fields, got ${fields.length}`);
    return { label: checkLabel(fields[2] as string, ['pos', 'neg'] as const, where), text: checkText(fields[4] as string, where) };
  });
}

/** Options of {@link loadLiar}. @category Data */
export interface LiarOptions {
  /** Folder holding `{train,valid,test}.tsv` (default: the repository's `data/liar`). */
  readonly dir?: string;
}

/**
 * Load LIAR (PolitiFact statements, 6 labels). Research use only; not in the published package, so
 * outside the repository pass `dir`. Only column 2 (label) and 3 (statement) are returned; columns
 * 9–13 (credit history) include the statement's own label and would leak it.
 * @param split 'train' (10,269), 'valid' (1,284) or 'test' (1,283).
 * @param opts Folder.
 * @returns Statements labelled pants-fire … true.
 * @throws {@link "tfjs-lens"!NotFoundError} when the file is missing; {@link "tfjs-lens"!DatasetError} when it is empty or a
 *   line does not have 14 tab-separated fields, has an unknown label or an empty statement.
 * @example const liar = await loadLiar('train');
 * @category Data
 */
export async function loadLiar(split: 'train' | 'valid' | 'test', opts: LiarOptions = {}): Promise<LabelledText<LiarLabel>[]> {
  const fn = 'loadLiar';
  const path = join(opts.dir ?? shippedDataDir('liar'), `${split}.tsv`);
  const hint = opts.dir === undefined ? ' (LIAR is research-only and not part of the published package: pass opts.dir)' : '';
  return parseTsv(await readText(path, fn, hint), path, 14).map(({ fields, line }) => {
    const where = `${fn}: ${path} line ${line}`;
    return { label: checkLabel(fields[1] as string, LIAR_LABELS, where), text: checkText(fields[2] as string, where) };
  });
}
