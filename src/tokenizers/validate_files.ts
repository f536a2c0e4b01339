/**
 * Checks of tokenizer files before the engine sees them, so a malformed file fails with a
 * TokenizerError naming the file and the field instead of loading and giving wrong or missing ids:
 * JSON files must hold objects, a vocabulary must map strings to integer ids, a WordPiece
 * vocabulary must hold its unknown token, and special tokens a config names must exist.
 */
import { TokenizerError } from '../errors.js';
import { specialTokenString, type SpecialTokenField, type TokenizerConfigJson } from './tokenizer_config.js';

const SPECIAL_FIELDS: readonly SpecialTokenField[] = ['bos_token', 'eos_token', 'pad_token', 'unk_token', 'cls_token', 'sep_token', 'mask_token'];

/**
 * A short description of a JSON value for messages ('null', 'an array', 'number 3').
 * @param v The value.
 * @returns The description.
 */
export function describeJson(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${JSON.stringify(v)?.slice(0, 40)}`;
}

/**
 * Require a parsed JSON file to hold an object.
 * @param value Parsed JSON.
 * @param file The file, for the message.
 * @returns The object.
 * @throws {@link "tfjs-lens"!TokenizerError} for null, an array or a scalar.
 */
export function requireJsonObject(value: unknown, file: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TokenizerError(`loadTokenizer: ${file} must hold a JSON object — got ${describeJson(value)}`);
  }
  return value as Record<string, unknown>;
}

/**
 * Require a vocabulary to be an object of token → integer id ≥ 0.
 * @param vocab The vocabulary as read.
 * @param where The file and field, for the message (e.g. `'/m/tokenizer.json model.vocab'`).
 * @returns The vocabulary.
 * @throws {@link "tfjs-lens"!TokenizerError} for an array or other non-object, an empty vocabulary or a bad id.
 */
export function requireVocabObject(vocab: unknown, where: string): Record<string, number> {
  if (typeof vocab !== 'object' || vocab === null || Array.isArray(vocab)) {
    const hint = Array.isArray(vocab) ? ' [a list of tokens is a Unigram/SentencePiece vocabulary, which is not supported]' : '';
    throw new TokenizerError(`loadTokenizer: ${where} must be an object of token → id — got ${describeJson(vocab)}${hint}`);
  }
  const entries = Object.entries(vocab);
  if (entries.length === 0) throw new TokenizerError(`loadTokenizer: ${where} is empty — expected ≥ 1 token`);
  for (const [token, id] of entries) {
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0) {
      throw new TokenizerError(`loadTokenizer: ${where}: id of token ${JSON.stringify(token)} must be an integer ≥ 0 — got ${describeJson(id)}`);
    }
  }
  return vocab as Record<string, number>;
}

/**
 * Require the unknown token of a WordPiece vocabulary to be in it (without it, a word made of
 * unknown characters gets no id).
 * @param vocab The vocabulary.
 * @param unk The unknown token.
 * @param where The file, for the message.
 * @throws {@link "tfjs-lens"!TokenizerError} naming the file and the token.
 */
export function requireUnkToken(vocab: Record<string, number>, unk: string, where: string): void {
  if (!Object.hasOwn(vocab, unk)) {
    throw new TokenizerError(
      `loadTokenizer: WordPiece vocabulary in ${where} lacks its unknown token ${JSON.stringify(unk)} — expected it in the vocabulary [without it, unknown words get no id]`,
    );
  }
}

/**
 * Require every special token the config names (bos, eos, pad, unk, cls, sep, mask) to be in the
 * vocabulary or among the added tokens.
 * @param config Merged tokenizer config.
 * @param known Tokens of the vocabulary and the added tokens.
 * @param where The tokenizer files, for the message.
 * @throws {@link "tfjs-lens"!TokenizerError} listing the missing tokens and their fields.
 */
export function requireSpecialTokens(config: TokenizerConfigJson, known: (token: string) => boolean, where: string): void {
  const missing: string[] = [];
  for (const field of SPECIAL_FIELDS) {
    const token = specialTokenString(config, field);
    if (token !== undefined && !known(token)) missing.push(`${field} ${JSON.stringify(token)}`);
  }
  if (missing.length > 0) {
    throw new TokenizerError(
      `loadTokenizer: special tokens named by the config are not in the vocabulary of ${where} — missing ${missing.join(', ')} ` +
        '[fix tokenizer_config.json / special_tokens_map.json, or add the tokens to the vocabulary]',
    );
  }
}

/**
 * The `content` strings of a tokenizer.json `added_tokens` list.
 * @param added The field as read.
 * @param where The file, for the message.
 * @returns The token strings.
 * @throws {@link "tfjs-lens"!TokenizerError} when the field is present but not an array of `{content: string}`.
 */
export function addedTokenContents(added: unknown, where: string): Set<string> {
  if (added === undefined || added === null) return new Set();
  if (!Array.isArray(added) || !added.every((t) => typeof t === 'object' && t !== null && typeof (t as { content?: unknown }).content === 'string')) {
    throw new TokenizerError(`loadTokenizer: ${where} added_tokens must be an array of {id, content, …} objects — got ${describeJson(added)}`);
  }
  return new Set(added.map((t) => (t as { content: string }).content));
}
