/**
 * Datasets for the `sae` commands, as token rows [n_rows, context]: synthetic token rows
 * (`random:N`, `repeated:N`: a random half-window repeated twice; optional token range `:lo-hi`), token rows from a JSON file, or text (a .txt/.jsonl/.tsv/.csv file, or a
 * folder such as `data/sms_spam`) tokenised and cut into context windows (SAELens concatenates
 * documents with BOS between them).
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { ConfigError } from '../../errors.js';
import { fsError } from '../../io/safetensors.js';
import type { Tokenizer } from '../../tokenizers/tokenizer.js';
import { tokenWindows } from '../../sae/activation_store.js';
import { seededRng } from '../../utils/rng.js';

/**
 * What the dataset needs from the model.
 * @category CLI
 */
export interface DatasetModel {
  readonly cfg: { readonly dVocab: number; readonly nCtx: number; readonly bosTokenId: number | undefined };
  readonly tokenizer: Tokenizer | undefined;
}

/**
 * Options of {@link datasetRows}.
 * @category CLI
 */
interface DatasetOptions {
  readonly contextSize: number;
  readonly seed: number;
  /** Cap on documents read from text (default 2000). */
  readonly maxDocs?: number;
}

function syntheticRows(kind: 'random' | 'repeated', n: number, m: DatasetModel, ctx: number, seed: number, range?: [number, number]): number[][] {
  const rand = seededRng(seed);
  const [lo, hi] = range ?? [0, m.cfg.dVocab];
  if (!(lo >= 0 && hi <= m.cfg.dVocab && lo < hi)) throw new ConfigError(`datasetRows: token range ${lo}-${hi} must lie within [0, ${m.cfg.dVocab})`);
  const tok = (): number => lo + Math.floor(rand() * (hi - lo));
  const bos = m.cfg.bosTokenId;
  return Array.from({ length: n }, () => {
    const body = ctx - (bos !== undefined ? 1 : 0);
    let row: number[];
    if (kind === 'random') row = Array.from({ length: body }, tok);
    else {
      const half = Array.from({ length: Math.ceil(body / 2) }, tok);
      row = [...half, ...half].slice(0, body);
    }
    return bos !== undefined ? [bos, ...row] : row;
  });
}

/** Fields of one CSV line (RFC 4180 quoting). Lines with embedded newlines are not joined. */
function csvFields(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let q = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i] as string;
    if (q) {
      if (c === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (c === '"') q = false;
      else cur += c;
    } else if (c === '"') q = true;
    else if (c === ',') {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

function textsOfFile(path: string, text: string): string[] {
  const ext = extname(path).toLowerCase();
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  if (ext === '.jsonl') return lines.map((l) => String((JSON.parse(l) as { text?: unknown }).text ?? ''));
  if (ext === '.csv') {
    const header = csvFields(lines[0] ?? '');
    const col = header.indexOf('text');
    return lines.slice(col >= 0 ? 1 : 0).map((l) => {
      const f = csvFields(l);
      return f[col >= 0 ? col : f.length - 1] ?? '';
    });
  }
  if (ext === '.tsv' || ext === '') return lines.map((l) => l.split('\t').at(-1) ?? '');
  return lines;
}

async function readTexts(path: string, maxDocs: number): Promise<string[]> {
  let files = [path];
  try {
    if ((await stat(path)).isDirectory()) {
      const names = (await readdir(path)).filter((n) => !/^(readme|source|license)/i.test(n) && ['.txt', '.tsv', '.csv', '.jsonl', ''].includes(extname(n).toLowerCase()));
      files = names.sort().map((n) => join(path, n));
    }
    const texts: string[] = [];
    for (const f of files) {
      if (texts.length >= maxDocs) break;
      texts.push(...textsOfFile(f, await readFile(f, 'utf8')).slice(0, maxDocs - texts.length));
    }
    return texts;
  } catch (err) {
    throw fsError('datasetRows', path, err);
  }
}

/**
 * Token rows for a dataset spec.
 * @param spec `random:N[:lo-hi]`, `repeated:N[:lo-hi]`, a `.json` file of token rows, or a text file/folder.
 * @param m The model (vocab size, BOS, tokenizer).
 * @param o Context size, seed, document cap.
 * @returns Rows [n_rows, contextSize].
 * @throws {@link "tfjs-lens"!ConfigError} for text without a tokenizer, bad specs or too little text.
 * @example const rows = await datasetRows('repeated:512', model, { contextSize: 64, seed: 0 });
 * @category CLI
 */
export async function datasetRows(spec: string, m: DatasetModel, o: DatasetOptions): Promise<number[][]> {
  const ctx = o.contextSize;
  const syn = /^(random|repeated):(\d+)(?::(\d+)-(\d+))?$/.exec(spec);
  if (syn !== null) {
    const range: [number, number] | undefined = syn[3] !== undefined ? [Number(syn[3]), Number(syn[4])] : undefined;
    return syntheticRows(syn[1] as 'random' | 'repeated', Number(syn[2]), m, ctx, o.seed, range);
  }
  if (spec.endsWith('.json')) {
    let rows: unknown;
    try {
      rows = JSON.parse(await readFile(spec, 'utf8'));
    } catch (err) {
      throw fsError('datasetRows', spec, err);
    }
    if (!Array.isArray(rows) || rows.some((r) => !Array.isArray(r) || r.length !== ctx || r.some((t) => !Number.isInteger(t)))) {
      throw new ConfigError(`datasetRows: ${spec} must hold token rows [n_rows, ${ctx}] (integers)`);
    }
    return rows as number[][];
  }
  if (m.tokenizer === undefined) {
    throw new ConfigError(`datasetRows: '${basename(spec)}' is text but the model has no tokenizer; use random:N, repeated:N or a .json of token rows`);
  }
  const tok = m.tokenizer;
  const docs = (await readTexts(spec, o.maxDocs ?? 2000)).map((t) => tok.encode(t));
  const rows = tokenWindows(docs, ctx, { ...(m.cfg.bosTokenId !== undefined ? { bos: m.cfg.bosTokenId } : {}) });
  if (rows.length === 0) throw new ConfigError(`datasetRows: ${spec} gave no full context window of ${ctx} tokens`);
  return rows;
}

/**
 * The default dataset: shipped text when the model has a tokenizer, else repeated random token rows.
 * @param m The model.
 * @param root Package root.
 * @returns A dataset spec.
 * @throws Never.
 * @example defaultDataset(model, packageRoot());
 * @category CLI
 */
export function defaultDataset(m: DatasetModel, root: string): string {
  return m.tokenizer !== undefined ? join(root, 'data', 'sms_spam') : 'repeated:512';
}
