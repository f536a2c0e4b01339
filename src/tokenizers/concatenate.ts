/**
 * TL `utils.tokenize_and_concatenate`: join a dataset's texts with EOS, tokenise, and cut the token
 * stream into rows of `maxLength` (BOS first when asked), for language-model training and
 * activation collection without padding.
 */
import { ConfigError, TokenizerError } from '../errors.js';
import { closeName } from '../utils/nearest.js';
import { checkOptionKeys, type OptionKeys } from '../utils/options.js';
import type { Tokenizer } from './tokenizer.js';

/** A dataset row: a text, or a record holding the text under a column name. @category Tokenizers */
export type TextRow = string | Readonly<Record<string, unknown>>;

/** Options of {@link tokenizeAndConcatenate} (TL argument names in camelCase). @category Tokenizers */
export interface TokenizeAndConcatenateOptions {
  /** Row length, BOS included (TL `max_length`; default 1024). */
  readonly maxLength?: number;
  /** Column holding the text in record rows (TL `column_name`; default 'text'); unused for string rows. */
  readonly columnName?: string;
  /** Start every row with the tokenizer's BOS (TL `add_bos_token`; default true). */
  readonly addBosToken?: boolean;
  /**
   * Rows joined and cut together within a shard (default 1000, the default batch size of HF
   * `datasets.map`): tokens never run from one batch into the next, and each batch drops its own remainder.
   */
  readonly batchSize?: number;
  /**
   * TL `num_proc` (default 10): HF `datasets.map(num_proc=p)` first cuts the dataset into
   * min(p, n) contiguous shards (sizes ⌊n/p⌋, the first n mod p one longer) and batches each shard
   * on its own, so the rows depend on it; 1 batches the whole dataset.
   */
  readonly numProc?: number;
  /** TL `streaming` (default false): no sharding (TL passes num_proc=None for a streamed dataset). */
  readonly streaming?: boolean;
}

const KEYS: OptionKeys<TokenizeAndConcatenateOptions> = { maxLength: true, columnName: true, addBosToken: true, batchSize: true, numProc: true, streaming: true };

/** HF `Dataset.shard(num_shards, index, contiguous=True)` bounds for every shard of n rows. */
function contiguousShards(n: number, numShards: number): [number, number][] {
  const div = Math.floor(n / numShards);
  const mod = n % numShards;
  return Array.from({ length: numShards }, (_, i) => {
    const start = div * i + Math.min(i, mod);
    return [start, start + div + (i < mod ? 1 : 0)];
  });
}

/** Python's `str.isspace` for one character (JS `\s` adds U+FEFF and lacks U+001C–U+001F, U+0085). */
function isSpace(c: string): boolean {
  return c === '\x1c' || c === '\x1d' || c === '\x1e' || c === '\x1f' || c === '\x85' || (c !== '\ufeff' && /^\s$/u.test(c));
}

/**
 * TL's 20 chunks of about equal length (in code points), each end moved forward to the next
 * whitespace by at most a tenth of a chunk, so no word is cut in two.
 */
function chunks(text: string): string[] {
  const chars = Array.from(text); // code points, as Python indexes a str
  const n = chars.length;
  const numChunks = 20;
  const chunkLength = Math.floor((n - 1) / numChunks) + 1;
  const lookahead = Math.floor(chunkLength / 10);
  const out: string[] = [];
  let start = 0;
  for (let i = 0; i < numChunks; i++) {
    let end = Math.min(start + chunkLength, n);
    const boundary = Math.min(end + lookahead, n);
    while (end < boundary && !isSpace(chars[end] ?? ' ')) end++;
    out.push(chars.slice(start, end).join(''));
    start = end;
  }
  return out;
}

function rowText(row: TextRow, column: string, i: number, fn: string): string {
  if (typeof row === 'string') return row;
  if (typeof row !== 'object' || row === null) throw new ConfigError(`${fn}: dataset[${i}] must be a string or a record, got ${row === null ? 'null' : typeof row}`);
  const v = row[column];
  if (typeof v === 'string') return v;
  if (v === undefined) {
    const near = closeName(column, Object.keys(row));
    throw new ConfigError(`${fn}: dataset[${i}] has no column '${column}'${near === undefined ? '' : ` (did you mean '${near}'?)`} [set columnName]`);
  }
  throw new ConfigError(`${fn}: dataset[${i}].${column} must be a string, got ${typeof v}`);
}

/**
 * Tokenise a dataset of texts into rows of `maxLength` tokens (TL `utils.tokenize_and_concatenate`).
 * The dataset is cut into `numProc` contiguous shards and each shard into batches of `batchSize`
 * rows, as HF `datasets.map(batched=True, num_proc=10)` does under TL (with 5 texts, each text is a
 * batch of its own; pass `numProc: 1` to join everything). Per batch: the texts are joined with the EOS token's text, split into 20
 * chunks at whitespace (as TL, so tokens match TL's), tokenised without special tokens and
 * concatenated; the stream is cut into rows of `maxLength - 1` (BOS then added) or `maxLength`
 * tokens and the remainder dropped. A batch with fewer tokens than one row gives one row padded
 * with the pad token (the EOS token when the tokenizer has none), as TL; a batch whose joined text
 * is blank gives no row. Short batches (under about 260 characters) get chunks too short to reach
 * whitespace and are cut mid-word, even inside the EOS text, exactly as TL does.
 *
 * Differences from TL: TL pads its chunks and then deletes every id equal to the tokenizer's pad
 * token, which also deletes real tokens when the pad token is used in text (with a pad token equal
 * to EOS, the EOS separators); no chunk is padded here, so every text token is kept. A tokenizer
 * whose HF post-processor adds special tokens to each chunk (T5's EOS, Llama's BOS) adds none here.
 * @param dataset Texts, or records holding the text under `columnName` (e.g. `loadSmsSpam()` rows).
 * @param tokenizer Needs an EOS token (and a BOS token with `addBosToken`).
 * @param opts `maxLength`, `columnName`, `addBosToken`, `batchSize`, `numProc`, `streaming`.
 * @returns Token rows [n, maxLength] (plain arrays; feed them to `model.forward`).
 * @throws {@link "tfjs-lens"!TokenizerError} for a tokenizer without EOS (or BOS when asked);
 *   {@link "tfjs-lens"!ConfigError} for bad options, a missing column or a non-string text.
 * @example tokenizeAndConcatenate(['Hello world', 'Bye'], gpt2, { maxLength: 4 }); // [[50256, 15496, 995, 50256], …]
 * @category Tokenizers
 */
export function tokenizeAndConcatenate(dataset: readonly TextRow[], tokenizer: Tokenizer, opts: TokenizeAndConcatenateOptions = {}): number[][] {
  const fn = 'tokenizeAndConcatenate';
  checkOptionKeys(opts, KEYS, fn);
  if (!Array.isArray(dataset)) throw new ConfigError(`${fn}: dataset must be an array of texts or records, got ${typeof dataset}`);
  const maxLength = opts.maxLength ?? 1024;
  const addBos = opts.addBosToken ?? true;
  const column = opts.columnName ?? 'text';
  const batchSize = opts.batchSize ?? 1000;
  if (!Number.isInteger(maxLength) || maxLength < (addBos ? 2 : 1)) {
    throw new ConfigError(`${fn}: maxLength must be an integer ≥ ${addBos ? 2 : 1}${addBos ? ' (one place is the BOS token)' : ''}, got ${String(maxLength)}`);
  }
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new ConfigError(`${fn}: batchSize must be a positive integer, got ${String(batchSize)}`);
  const numProc = opts.streaming === true ? 1 : (opts.numProc ?? 10);
  if (!Number.isInteger(numProc) || numProc < 1) throw new ConfigError(`${fn}: numProc must be a positive integer, got ${String(opts.numProc)}`);
  const eos = tokenizer.eosTokenId;
  const eosText = eos === undefined ? undefined : tokenizer.idToToken(eos);
  if (eos === undefined || eosText === undefined) throw new TokenizerError(`${fn}: the tokenizer must have an EOS token (it separates the texts)`);
  const bos = tokenizer.bosTokenId;
  if (addBos && bos === undefined) throw new TokenizerError(`${fn}: addBosToken is true but the tokenizer has no BOS token [pass addBosToken: false]`);
  const seqLen = addBos ? maxLength - 1 : maxLength;
  const pad = tokenizer.padTokenId ?? eos;
  const out: number[][] = [];
  // HF caps num_proc at the dataset's length; each shard is then mapped in batches of batchSize.
  const batches = contiguousShards(dataset.length, Math.max(1, Math.min(numProc, dataset.length))).flatMap(([lo, hi]) => {
    const starts: [number, number][] = [];
    for (let b = lo; b < hi; b += batchSize) starts.push([b, Math.min(b + batchSize, hi)]);
    return starts;
  });
  for (const [b, e] of batches) {
    const texts = dataset.slice(b, e).map((r, i) => rowText(r, column, b + i, fn));
    const full = texts.join(eosText);
    if (full.trim() === '') continue;
    let tokens = chunks(full).flatMap((c) => tokenizer.encode(c));
    let rows: number;
    if (tokens.length < seqLen) {
      rows = 1;
      tokens = [...tokens, ...new Array<number>(seqLen - tokens.length).fill(pad)];
    } else {
      rows = Math.floor(tokens.length / seqLen);
    }
    for (let r = 0; r < rows; r++) {
      const row = tokens.slice(r * seqLen, (r + 1) * seqLen); // [seq_len]
      out.push(addBos && bos !== undefined ? [bos, ...row] : row);
    }
  }
  return out;
}
