/**
 * On-disk tokenizer formats, typed as written (snake_case, STYLE Convention 15): Hugging Face
 * `tokenizer.json` (only the parts we read or build), `tokenizer_config.json` and
 * `special_tokens_map.json`, plus the lookup of a named special token in them.
 */

/** A special token as HF writes it: a plain string or an AddedToken-like object. @category Tokenizers */
type SpecialTokenSpec = string | { readonly content: string; readonly [key: string]: unknown };

/**
 * `tokenizer_config.json` merged with `special_tokens_map.json` (the fields we read). Other keys
 * are passed through to the engine unchanged.
 * @category Tokenizers
 */
export interface TokenizerConfigJson {
  model_max_length?: number;
  do_lower_case?: boolean;
  strip_accents?: boolean | null;
  tokenize_chinese_chars?: boolean;
  clean_up_tokenization_spaces?: boolean;
  bos_token?: SpecialTokenSpec | null;
  eos_token?: SpecialTokenSpec | null;
  pad_token?: SpecialTokenSpec | null;
  unk_token?: SpecialTokenSpec | null;
  cls_token?: SpecialTokenSpec | null;
  sep_token?: SpecialTokenSpec | null;
  mask_token?: SpecialTokenSpec | null;
  additional_special_tokens?: readonly SpecialTokenSpec[];
  [key: string]: unknown;
}

/** One entry of `tokenizer.json` `added_tokens`. @category Tokenizers */
export interface AddedTokenJson {
  id: number;
  content: string;
  single_word: boolean;
  lstrip: boolean;
  rstrip: boolean;
  normalized: boolean;
  special: boolean;
}

/** A pipeline stage of `tokenizer.json` (normalizer, pre_tokenizer, post_processor, decoder). @category Tokenizers */
export interface StageJson {
  type: string;
  [key: string]: unknown;
}

/** The `model` section of `tokenizer.json` (BPE or WordPiece). @category Tokenizers */
interface ModelJson {
  type?: string;
  vocab: Record<string, number>;
  merges?: readonly string[] | readonly (readonly [string, string])[];
  unk_token?: string | null;
  continuing_subword_prefix?: string | null;
  [key: string]: unknown;
}

/** A Hugging Face `tokenizer.json` (the parts we read or build). @category Tokenizers */
export interface TokenizerJson {
  version?: string;
  truncation?: unknown;
  padding?: unknown;
  added_tokens: AddedTokenJson[];
  normalizer: StageJson | null;
  pre_tokenizer: StageJson | null;
  post_processor: StageJson | null;
  decoder: StageJson | null;
  model: ModelJson;
}

/** The names of the special-token fields of a tokenizer config. @category Tokenizers */
export type SpecialTokenField = 'bos_token' | 'eos_token' | 'pad_token' | 'unk_token' | 'cls_token' | 'sep_token' | 'mask_token';

/**
 * The string a config gives for a special token, whether written as a string or an object.
 * @param config Merged tokenizer config.
 * @param field Which special token.
 * @returns The token string, or undefined if the config does not name it.
 * @example specialTokenString({ eos_token: { content: '<|endoftext|>' } }, 'eos_token'); // '<|endoftext|>'
 * @category Tokenizers
 */
export function specialTokenString(config: TokenizerConfigJson, field: SpecialTokenField): string | undefined {
  const spec = config[field];
  if (typeof spec === 'string') return spec;
  if (spec !== null && typeof spec === 'object' && typeof spec.content === 'string') return spec.content;
  return undefined;
}

/**
 * `model_max_length` when it is a real limit: HF writes `int(1e30)` when a tokenizer has none.
 * @param config Merged tokenizer config.
 * @returns The length, or undefined when absent or unbounded.
 * @example modelMaxLengthOf({ model_max_length: 1024 }); // 1024
 * @category Tokenizers
 */
export function modelMaxLengthOf(config: TokenizerConfigJson): number | undefined {
  const n = config.model_max_length;
  return typeof n === 'number' && Number.isInteger(n) && n > 0 && n < 2 ** 31 ? n : undefined;
}
