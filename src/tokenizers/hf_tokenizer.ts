/**
 * {@link Tokenizer} over the `@huggingface/tokenizers` engine (tokenizers.js), shared by GPT-2 BPE
 * and WordPiece. Engine choice: tokenizers.js is the tokenizer core of transformers.js split into its
 * own package (transformers.js PR #1501): zero dependencies, ~8 kB gzip, reads `tokenizer.json`
 * offline and gives Hugging Face's ids. `@huggingface/transformers` would also pull in
 * onnxruntime (474 MB, and `ONNXRUNTIME_NODE_INSTALL=skip` to install offline) for nothing we use.
 * Where the engine differs from HF's Rust `tokenizers` (checked code point by code point against
 * tokenizers 0.23.2), `gpt2_bpe.ts` and `wordpiece.ts` correct it; see their comments.
 */
import { Tokenizer as EngineClass } from '@huggingface/tokenizers';
import { TokenizerError } from '../errors.js';
import type { SpecialTokenIds, Tokenizer, TokenizerKind } from './tokenizer.js';
import type { TokenizerConfigJson, TokenizerJson } from './tokenizer_config.js';

/**
 * The part of the tokenizers.js engine we use, typed here: the package's `.d.ts` re-exports with
 * extensionless relative paths, which do not resolve under NodeNext, so its classes import as `any`.
 * @category Tokenizers
 */
interface HfEngine {
  encode(text: string, options: { add_special_tokens: boolean }): { ids: number[] };
  decode(ids: number[], options: { skip_special_tokens: boolean; clean_up_tokenization_spaces: boolean }): string;
  token_to_id(token: string): number | undefined;
  id_to_token(id: number): string | undefined;
  get_vocab(withAddedTokens: boolean): Map<string, number>;
  /** The pre-tokenizer; a ByteLevel one has its split regex in `pattern`. */
  pre_tokenizer: { config?: { type?: string }; pattern?: RegExp } | null;
}

/** How an {@link HfTokenizer} behaves beyond what the engine does. @category Tokenizers */
interface HfTokenizerOptions {
  /** Algorithm family. */
  readonly kind: TokenizerKind;
  /** Special-token ids, already resolved from the config and vocabulary. */
  readonly specials: SpecialTokenIds;
  /** Context length (undefined: unbounded/unknown). */
  readonly modelMaxLength: number | undefined;
  /** Apply HF `clean_up_tokenization` (' ,' → ',' …) when decoding. */
  readonly cleanUpTokenizationSpaces: boolean;
  /** Rewrite a text before the engine sees it (engine work-arounds); identity when absent. */
  readonly preprocess?: (text: string) => string;
}

/**
 * Build the engine from a `tokenizer.json` object and a tokenizer config.
 * @param json Parsed or built `tokenizer.json`.
 * @param config Merged `tokenizer_config.json` + `special_tokens_map.json` ({} if none).
 * @param fn Caller name for error messages.
 * @returns The engine.
 * @throws {@link "tfjs-lens"!TokenizerError} if the engine rejects the files.
 * @example const engine = createEngine(json, {}, 'loadTokenizer');
 * @category Tokenizers
 */
export function createEngine(json: TokenizerJson, config: TokenizerConfigJson, fn: string): HfEngine {
  try {
    return new EngineClass(json, config) as HfEngine;
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    throw new TokenizerError(`${fn}: tokenizer.json is not usable — ${msg}`);
  }
}

function largestId(engine: HfEngine): number {
  let max = -1;
  for (const id of engine.get_vocab(true).values()) if (id > max) max = id;
  return max;
}

/**
 * A {@link Tokenizer} backed by the tokenizers.js engine. Normally made by `loadTokenizer`.
 * @example
 * const tok = new HfTokenizer(createEngine(json, {}, 'demo'), {
 *   kind: 'bpe', specials, modelMaxLength: 1024, cleanUpTokenizationSpaces: false,
 * });
 * @category Tokenizers
 */
export class HfTokenizer implements Tokenizer {
  readonly kind: TokenizerKind;
  readonly vocabSize: number;
  readonly modelMaxLength: number | undefined;
  readonly bosTokenId: number | undefined;
  readonly eosTokenId: number | undefined;
  readonly padTokenId: number | undefined;
  readonly unkTokenId: number | undefined;
  readonly clsTokenId: number | undefined;
  readonly sepTokenId: number | undefined;
  readonly maskTokenId: number | undefined;
  readonly #engine: HfEngine;
  readonly #cleanUp: boolean;
  readonly #preprocess: ((text: string) => string) | undefined;

  /**
   * @param engine A tokenizers.js engine (see {@link createEngine}).
   * @param opts Kind, special ids, context length, decode clean-up and preprocessing.
   * @throws {@link "tfjs-lens"!TokenizerError} if the vocabulary is empty.
   */
  constructor(engine: HfEngine, opts: HfTokenizerOptions) {
    this.#engine = engine;
    this.#cleanUp = opts.cleanUpTokenizationSpaces;
    this.#preprocess = opts.preprocess;
    this.kind = opts.kind;
    this.vocabSize = largestId(engine) + 1;
    if (this.vocabSize <= 0) throw new TokenizerError('HfTokenizer: the vocabulary is empty — expected ≥ 1 token');
    this.modelMaxLength = opts.modelMaxLength;
    const s = opts.specials;
    this.bosTokenId = s.bosTokenId;
    this.eosTokenId = s.eosTokenId;
    this.padTokenId = s.padTokenId;
    this.unkTokenId = s.unkTokenId;
    this.clsTokenId = s.clsTokenId;
    this.sepTokenId = s.sepTokenId;
    this.maskTokenId = s.maskTokenId;
  }

  /** {@inheritDoc Tokenizer.encode} */
  encode(text: string): number[] {
    if (typeof text !== 'string') {
      throw new TokenizerError(`encode: text must be a string — got ${text === null ? 'null' : typeof text}`);
    }
    if (text.length === 0) return [];
    const input = this.#preprocess ? this.#preprocess(text) : text;
    return this.#engine.encode(input, { add_special_tokens: false }).ids;
  }

  /** {@inheritDoc Tokenizer.decode} */
  decode(ids: readonly number[]): string {
    if (!Array.isArray(ids)) throw new TokenizerError(`decode: ids must be an array of integers — got ${typeof ids}`);
    ids.forEach((id, i) => this.#checkId('decode', id, i));
    if (ids.length === 0) return '';
    return this.#engine.decode([...ids], { skip_special_tokens: false, clean_up_tokenization_spaces: this.#cleanUp });
  }

  /** {@inheritDoc Tokenizer.decodeToken} */
  decodeToken(id: number): string {
    this.#checkId('decodeToken', id, undefined);
    return this.#engine.decode([id], { skip_special_tokens: false, clean_up_tokenization_spaces: this.#cleanUp });
  }

  /** {@inheritDoc Tokenizer.idToToken} */
  idToToken(id: number): string | undefined {
    if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize) return undefined;
    return this.#engine.id_to_token(id);
  }

  /** {@inheritDoc Tokenizer.tokenToId} */
  tokenToId(token: string): number | undefined {
    return this.#engine.token_to_id(token);
  }

  #checkId(fn: string, id: unknown, index: number | undefined): void {
    if (typeof id === 'number' && Number.isInteger(id) && this.idToToken(id) !== undefined) return;
    const where = index === undefined ? '' : ` at index ${index}`;
    throw new TokenizerError(
      `${fn}: invalid token id${where} — expected an integer in [0, ${this.vocabSize}), got ${String(id)}`,
    );
  }
}
