/**
 * Build a tokenizer from a model's tokenizer files, wherever they live: `tokenizer.json`
 * (+ `tokenizer_config.json`, `special_tokens_map.json`), else GPT-2's (or RoBERTa's) `vocab.json` +
 * `merges.txt`, else BERT's `vocab.txt` (HF `AutoTokenizer` file precedence). The files come from a
 * {@link TokenizerFileSource}: a folder on disk (load.ts, Node) or a base URL (the browser loaders).
 */
import { TokenizerError } from '../errors.js';
import { buildByteLevelBpeJson, createGpt2Tokenizer, parseMergesTxt } from './gpt2_bpe.js';
import type { Tokenizer, TokenizerKind } from './tokenizer.js';
import { specialTokenString, type TokenizerConfigJson, type TokenizerJson } from './tokenizer_config.js';
import { buildWordPieceJson, createWordPieceTokenizer, parseVocabTxt } from './wordpiece.js';
import { buildRobertaBpeJson, createRobertaTokenizer, isRobertaTokenizerJson } from './roberta_bpe.js';
import { addedTokenContents, requireJsonObject, requireSpecialTokens, requireUnkToken, requireVocabObject } from './validate_files.js';
import type { LoadTokenizerOptions } from './load_options.js';

/**
 * Where a tokenizer's files come from (a folder, a base URL).
 * @category Tokenizers
 */
export interface TokenizerFileSource {
  /** The folder path or base URL, for messages. */
  readonly dir: string;
  /** Whether the file exists. */
  has(name: string): Promise<boolean>;
  /** The file's text (only asked for files `has` confirmed). */
  text(name: string): Promise<string>;
  /** The file's full path or URL, for messages. */
  path(name: string): string;
  /** The file names known to exist, for the "no usable tokenizer" message. */
  found(): readonly string[];
}

const KIND_OF_MODEL_TYPE: Readonly<Record<string, TokenizerKind>> = {
  gpt2: 'bpe',
  gpt_neo: 'bpe',
  gpt_neox: 'bpe',
  gptj: 'bpe',
  roberta: 'bpe',
  bert: 'wordpiece',
  distilbert: 'wordpiece',
};

/** Read a JSON object file of the source (undefined when absent); parse errors name the file. */
async function readJson<T>(files: TokenizerFileSource, name: string): Promise<T | undefined> {
  if (!(await files.has(name))) return undefined;
  const text = await files.text(name);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    throw new TokenizerError(`loadTokenizer: ${name} in '${files.dir}' is not valid JSON — ${msg}`);
  }
  return requireJsonObject(value, files.path(name)) as T;
}

interface HfModelConfig {
  model_type?: string;
  n_positions?: number;
  max_position_embeddings?: number;
}

/** tokenizer_config.json overlaid by special_tokens_map.json; model_max_length falls back to config.json. */
async function readConfig(files: TokenizerFileSource): Promise<{ config: TokenizerConfigJson; modelType: string | undefined }> {
  const tokConfig = (await readJson<TokenizerConfigJson>(files, 'tokenizer_config.json')) ?? {};
  const specialMap = (await readJson<TokenizerConfigJson>(files, 'special_tokens_map.json')) ?? {};
  const model = (await readJson<HfModelConfig>(files, 'config.json')) ?? {};
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

function noFilesError(files: TokenizerFileSource, wanted: TokenizerKind | undefined): TokenizerError {
  const expected =
    wanted === 'bpe'
      ? 'tokenizer.json, or vocab.json + merges.txt'
      : wanted === 'wordpiece'
        ? 'tokenizer.json, or vocab.txt'
        : 'tokenizer.json, vocab.json + merges.txt (GPT-2), or vocab.txt (BERT)';
  const names = files.found();
  const found = names.length > 0 ? names.join(', ') : 'no files';
  return new TokenizerError(`loadTokenizer: no usable tokenizer in '${files.dir}' — expected ${expected}; found: ${found}`);
}

async function fromTokenizerJson(files: TokenizerFileSource, config: TokenizerConfigJson, wanted: TokenizerKind | undefined, roberta: boolean) {
  const json = (await readJson<TokenizerJson>(files, 'tokenizer.json')) as TokenizerJson;
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

async function fromVocabMerges(files: TokenizerFileSource, config: TokenizerConfigJson, roberta: boolean): Promise<Tokenizer> {
  const vocab = requireVocabObject(await readJson<unknown>(files, 'vocab.json'), files.path('vocab.json'));
  const merges = parseMergesTxt(await files.text('merges.txt'));
  requireSpecialTokens(config, (t) => Object.hasOwn(vocab, t), files.path('vocab.json'));
  if (roberta) return createRobertaTokenizer(buildRobertaBpeJson(vocab, merges, config), config, 'loadTokenizer');
  const specials = (['bos_token', 'eos_token', 'pad_token', 'unk_token'] as const)
    .map((f) => specialTokenString(config, f))
    .filter((t): t is string => t !== undefined);
  const json = buildByteLevelBpeJson(vocab, merges, ['<|endoftext|>', ...specials]);
  return createGpt2Tokenizer(json, config, 'loadTokenizer');
}

async function fromVocabTxt(files: TokenizerFileSource, config: TokenizerConfigJson): Promise<Tokenizer> {
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
 * Build the tokenizer from a file source (the body of `loadTokenizer`, shared with the browser's
 * `loadTokenizerFromUrl`).
 * @param files Where the files come from.
 * @param opts `modelType` to require a BPE or WordPiece tokenizer.
 * @returns The tokenizer.
 * @throws {@link "tfjs-lens"!TokenizerError} as `loadTokenizer`.
 */
export async function tokenizerFromFiles(files: TokenizerFileSource, opts: LoadTokenizerOptions = {}): Promise<Tokenizer> {
  const { config, modelType } = await readConfig(files);
  const typeName = opts.modelType ?? modelType;
  const wanted = typeName === undefined ? undefined : KIND_OF_MODEL_TYPE[typeName];
  const roberta = typeName === 'roberta';
  if (await files.has('tokenizer.json')) return fromTokenizerJson(files, config, wanted, roberta);
  if (wanted !== 'wordpiece' && (await files.has('vocab.json')) && (await files.has('merges.txt'))) return fromVocabMerges(files, config, roberta);
  if (wanted !== 'bpe' && (await files.has('vocab.txt'))) return fromVocabTxt(files, config);
  throw noFilesError(files, wanted);
}
