/**
 * Load a tokenizer from a model folder, offline: `tokenizer.json` (+ `tokenizer_config.json`,
 * `special_tokens_map.json`), else GPT-2's (or RoBERTa's) `vocab.json` + `merges.txt`, else BERT's
 * `vocab.txt`.
 * Follows HF `AutoTokenizer.from_pretrained` file precedence; the shipped GPT-2 and
 * distilbert-base-uncased files are found with {@link shippedTokenizerDir}.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TokenizerError } from '../errors.js';
import { buildByteLevelBpeJson, createGpt2Tokenizer, parseMergesTxt } from './gpt2_bpe.js';
import type { Tokenizer, TokenizerKind } from './tokenizer.js';
import { specialTokenString, type TokenizerConfigJson, type TokenizerJson } from './tokenizer_config.js';
import { buildWordPieceJson, createWordPieceTokenizer, parseVocabTxt } from './wordpiece.js';
import { buildRobertaBpeJson, createRobertaTokenizer, isRobertaTokenizerJson } from './roberta_bpe.js';
import { addedTokenContents, requireJsonObject, requireSpecialTokens, requireUnkToken, requireVocabObject } from './validate_files.js';

/** Options of {@link loadTokenizer}. @category Tokenizers */
export interface LoadTokenizerOptions {
  /**
   * HF `model_type` the tokenizer must fit: 'gpt2', 'gpt_neo', 'gpt_neox', 'gptj' (BPE),
   * 'roberta' (byte-level BPE with `<s>`/`</s>` as cls/sep) or 'bert', 'distilbert' (WordPiece).
   * Default: config.json's `model_type`. For other or no values the files decide (a
   * `tokenizer.json` with a `RobertaProcessing` post-processor gives a RoBERTa tokenizer).
   */
  readonly modelType?: string;
}

/** The tokenizers shipped in the package's `tokenizers/` folder. @category Tokenizers */
export type ShippedTokenizerName = 'gpt2' | 'distilbert-base-uncased';

const SHIPPED: readonly ShippedTokenizerName[] = ['gpt2', 'distilbert-base-uncased'];

const KIND_OF_MODEL_TYPE: Readonly<Record<string, TokenizerKind>> = {
  gpt2: 'bpe',
  gpt_neo: 'bpe',
  gpt_neox: 'bpe',
  gptj: 'bpe',
  roberta: 'bpe',
  bert: 'wordpiece',
  distilbert: 'wordpiece',
};

/**
 * Path of a tokenizer folder shipped with tfjs-lens (`<package>/tokenizers/<name>`). The path is
 * resolved from this module's URL: `src/tokenizers/` (tests, tsx) and `dist/tokenizers/` (built
 * package) both sit two levels below the package root, next to `tokenizers/`.
 * @param name 'gpt2' or 'distilbert-base-uncased'.
 * @returns Absolute folder path.
 * @throws {@link "tfjs-lens"!TokenizerError} for another name.
 * @example const tok = await loadTokenizer(shippedTokenizerDir('gpt2'));
 * @category Tokenizers
 */
export function shippedTokenizerDir(name: ShippedTokenizerName): string {
  if (!SHIPPED.includes(name)) {
    throw new TokenizerError(`shippedTokenizerDir: unknown tokenizer — expected one of ${SHIPPED.join(', ')}, got '${String(name)}'`);
  }
  return fileURLToPath(new URL(`../../tokenizers/${name}`, import.meta.url));
}

/** The folder's files, read lazily; JSON parse errors name the file. */
class FolderFiles {
  constructor(
    readonly dir: string,
    readonly names: readonly string[],
  ) {}

  has(name: string): boolean {
    return this.names.includes(name);
  }

  async text(name: string): Promise<string> {
    return readFile(join(this.dir, name), 'utf8');
  }

  async json<T>(name: string): Promise<T | undefined> {
    if (!this.has(name)) return undefined;
    const text = await this.text(name);
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      throw new TokenizerError(`loadTokenizer: ${name} in '${this.dir}' is not valid JSON — ${msg}`);
    }
    return requireJsonObject(value, this.path(name)) as T;
  }

  path(name: string): string {
    return join(this.dir, name);
  }
}

async function listFolder(dir: string): Promise<FolderFiles> {
  try {
    const entries = await readdir(dir, { withFileTypes: true });
    return new FolderFiles(dir, entries.filter((e) => e.isFile()).map((e) => e.name).sort());
  } catch (err) {
    const code = (err as { code?: string }).code ?? String(err);
    throw new TokenizerError(
      `loadTokenizer: cannot read tokenizer folder '${dir}' (${code}) — expected a folder with tokenizer.json, ` +
        'vocab.json + merges.txt, or vocab.txt; found: no files',
    );
  }
}

interface HfModelConfig {
  model_type?: string;
  n_positions?: number;
  max_position_embeddings?: number;
}

/** tokenizer_config.json overlaid by special_tokens_map.json; model_max_length falls back to config.json. */
async function readConfig(files: FolderFiles): Promise<{ config: TokenizerConfigJson; modelType: string | undefined }> {
  const tokConfig = (await files.json<TokenizerConfigJson>('tokenizer_config.json')) ?? {};
  const specialMap = (await files.json<TokenizerConfigJson>('special_tokens_map.json')) ?? {};
  const model = (await files.json<HfModelConfig>('config.json')) ?? {};
  const config: TokenizerConfigJson = { ...tokConfig, ...specialMap };
  if (config.model_max_length === undefined) {
    const n = model.n_positions ?? model.max_position_embeddings;
    if (typeof n === 'number') config.model_max_length = n;
  }
  return { config, modelType: model.model_type };
}

function kindOfJson(json: TokenizerJson, file: string): TokenizerKind {
  const model = (json as Partial<TokenizerJson>).model;
  if (model === undefined || model === null || typeof model !== 'object') {
    throw new TokenizerError(`loadTokenizer: ${file} has no 'model' section — expected a Hugging Face tokenizer.json`);
  }
  if (model.type === 'BPE' || (model.type === undefined && Array.isArray(model.merges))) return 'bpe';
  if (model.type === 'WordPiece' || (model.type === undefined && typeof model.continuing_subword_prefix === 'string')) {
    return 'wordpiece';
  }
  throw new TokenizerError(
    `loadTokenizer: unsupported tokenizer model in ${file} — expected BPE or WordPiece, got ${String(model.type)}`,
  );
}

function noFilesError(files: FolderFiles, wanted: TokenizerKind | undefined): TokenizerError {
  const expected =
    wanted === 'bpe'
      ? 'tokenizer.json, or vocab.json + merges.txt'
      : wanted === 'wordpiece'
        ? 'tokenizer.json, or vocab.txt'
        : 'tokenizer.json, vocab.json + merges.txt (GPT-2), or vocab.txt (BERT)';
  const found = files.names.length > 0 ? files.names.join(', ') : 'no files';
  return new TokenizerError(`loadTokenizer: no usable tokenizer in '${files.dir}' — expected ${expected}; found: ${found}`);
}

async function fromTokenizerJson(files: FolderFiles, config: TokenizerConfigJson, wanted: TokenizerKind | undefined, roberta: boolean) {
  const json = (await files.json<TokenizerJson>('tokenizer.json')) as TokenizerJson;
  const file = files.path('tokenizer.json');
  const kind = kindOfJson(json, file);
  if (wanted !== undefined && kind !== wanted) {
    throw new TokenizerError(
      `loadTokenizer: tokenizer.json in '${files.dir}' is ${kind} — expected ${wanted} for this model type`,
    );
  }
  const vocab = requireVocabObject(json.model.vocab, `${file} model.vocab`);
  if (kind === 'wordpiece') requireUnkToken(vocab, json.model.unk_token ?? '[UNK]', `${file} (model.unk_token)`);
  const added = addedTokenContents(json.added_tokens, file);
  requireSpecialTokens(config, (t) => Object.hasOwn(vocab, t) || added.has(t), file);
  if (kind === 'wordpiece') return createWordPieceTokenizer(json, config, 'loadTokenizer');
  return roberta || isRobertaTokenizerJson(json)
    ? createRobertaTokenizer(json, config, 'loadTokenizer')
    : createGpt2Tokenizer(json, config, 'loadTokenizer');
}

async function fromVocabMerges(files: FolderFiles, config: TokenizerConfigJson, roberta: boolean): Promise<Tokenizer> {
  const vocab = requireVocabObject(await files.json<unknown>('vocab.json'), files.path('vocab.json'));
  const merges = parseMergesTxt(await files.text('merges.txt'));
  requireSpecialTokens(config, (t) => Object.hasOwn(vocab, t), files.path('vocab.json'));
  if (roberta) return createRobertaTokenizer(buildRobertaBpeJson(vocab, merges, config), config, 'loadTokenizer');
  const specials = (['bos_token', 'eos_token', 'pad_token', 'unk_token'] as const)
    .map((f) => specialTokenString(config, f))
    .filter((t): t is string => t !== undefined);
  const json = buildByteLevelBpeJson(vocab, merges, ['<|endoftext|>', ...specials]);
  return createGpt2Tokenizer(json, config, 'loadTokenizer');
}

async function fromVocabTxt(files: FolderFiles, config: TokenizerConfigJson): Promise<Tokenizer> {
  const vocab = parseVocabTxt(await files.text('vocab.txt'));
  const specialTokens = {
    pad_token: specialTokenString(config, 'pad_token'),
    unk_token: specialTokenString(config, 'unk_token'),
    cls_token: specialTokenString(config, 'cls_token'),
    sep_token: specialTokenString(config, 'sep_token'),
    mask_token: specialTokenString(config, 'mask_token'),
  };
  const named = Object.fromEntries(Object.entries(specialTokens).filter(([, v]) => v !== undefined));
  const file = files.path('vocab.txt');
  requireUnkToken(vocab, specialTokens.unk_token ?? '[UNK]', file);
  requireSpecialTokens(config, (t) => Object.hasOwn(vocab, t), file);
  const json = buildWordPieceJson(vocab, { lowercase: config.do_lower_case ?? true, specialTokens: named });
  return createWordPieceTokenizer(json, config, 'loadTokenizer');
}

/**
 * Load the tokenizer of a model folder, offline.
 * Order: `tokenizer.json`; else `vocab.json` + `merges.txt` (GPT-2 or, for `modelType` 'roberta',
 * RoBERTa byte-level BPE); else `vocab.txt`
 * (BERT WordPiece, `do_lower_case` from tokenizer_config.json, default true). `tokenizer_config.json`
 * and `special_tokens_map.json` supply special tokens and `model_max_length` (else config.json's
 * `n_positions` / `max_position_embeddings`).
 * @param dir Folder path.
 * @param opts `modelType` to require a GPT-2 or RoBERTa (BPE) or BERT (WordPiece) tokenizer.
 * @returns The tokenizer.
 * @throws {@link "tfjs-lens"!TokenizerError} when the folder is unreadable or has no usable files (the message
 *   lists the files found), a file is malformed (a JSON file that is not an object, a vocabulary that is
 *   not token → integer id, a WordPiece vocabulary without its unknown token, a special token the config
 *   names that is not in the vocabulary; the message names the file), or the tokenizer does not fit `modelType`.
 * @example
 * const tok = await loadTokenizer(shippedTokenizerDir('distilbert-base-uncased'));
 * tok.encode('Héllo'); // [7592]
 * @category Tokenizers
 */
export async function loadTokenizer(dir: string, opts: LoadTokenizerOptions = {}): Promise<Tokenizer> {
  const files = await listFolder(dir);
  const { config, modelType } = await readConfig(files);
  const typeName = opts.modelType ?? modelType;
  const wanted = typeName === undefined ? undefined : KIND_OF_MODEL_TYPE[typeName];
  const roberta = typeName === 'roberta';
  if (files.has('tokenizer.json')) return fromTokenizerJson(files, config, wanted, roberta);
  if (wanted !== 'wordpiece' && files.has('vocab.json') && files.has('merges.txt')) return fromVocabMerges(files, config, roberta);
  if (wanted !== 'bpe' && files.has('vocab.txt')) return fromVocabTxt(files, config);
  throw noFilesError(files, wanted);
}
