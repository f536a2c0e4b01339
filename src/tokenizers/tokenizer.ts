/**
 * The tokenizer interface the model classes use: raw encode/decode over plain number arrays, the
 * special-token ids, and the context length. Implemented by {@link HfTokenizer} for GPT-2
 * byte-level BPE (`gpt2_bpe.ts`), RoBERTa's variant of it (`roberta_bpe.ts`) and BERT/DistilBERT
 * WordPiece (`wordpiece.ts`); batching with
 * special tokens, padding and truncation lives in `batch.ts` (TransformerLens `to_tokens` semantics).
 */

/** The tokenization algorithm family. @category Tokenizers */
export type TokenizerKind = 'bpe' | 'wordpiece';

/**
 * Special-token ids of a tokenizer; `undefined` where the tokenizer has no such token.
 * GPT-2: bos = eos = pad = 50256 (`<|endoftext|>`). BERT/DistilBERT: pad 0, unk 100, cls 101,
 * sep 102, mask 103, and no bos/eos.
 * @category Tokenizers
 */
export interface SpecialTokenIds {
  /** Beginning of sequence; {@link encodeForDecoder} prepends it unless `prependBos: false`. */
  readonly bosTokenId: number | undefined;
  /** End of sequence; {@link "tfjs-lens"!HookedTransformer.generate}'s last fallback for its stop token. */
  readonly eosTokenId: number | undefined;
  /** Padding, used to pad a batch of rows to one length. */
  readonly padTokenId: number | undefined;
  /** Unknown token (WordPiece `[UNK]`), for out-of-vocabulary text. */
  readonly unkTokenId: number | undefined;
  /** `[CLS]` (RoBERTa `<s>`), opening every encoder row. */
  readonly clsTokenId: number | undefined;
  /** `[SEP]` (RoBERTa `</s>`), closing each segment of an encoder row. */
  readonly sepTokenId: number | undefined;
  /** `[MASK]`, for masked-LM scoring ({@link pseudoLogLikelihood}). */
  readonly maskTokenId: number | undefined;
}

/**
 * A loaded tokenizer. `encode` never adds special tokens; `encodeForDecoder` / `encodeForEncoder`
 * (batch.ts) add BOS or `[CLS]`/`[SEP]`, pad and truncate.
 * @example
 * const tok = await loadTokenizer(shippedTokenizerDir('gpt2'));
 * tok.encode('hello world'); // [31373, 995]
 * tok.decode([31373, 995]); // 'hello world'
 * @category Tokenizers
 */
export interface Tokenizer extends SpecialTokenIds {
  /** 'bpe' (GPT-2 / RoBERTa byte-level BPE) or 'wordpiece' (BERT/DistilBERT). */
  readonly kind: TokenizerKind;
  /** Number of ids: one more than the largest id (GPT-2 50257, bert-base-uncased 30522). */
  readonly vocabSize: number;
  /** `model_max_length` (GPT-2 1024, DistilBERT 512); undefined when the files do not say. */
  readonly modelMaxLength: number | undefined;
  /**
   * Token ids of a text, with no special tokens added (no BOS, no `[CLS]`/`[SEP]`). Special-token
   * strings written in the text (`<|endoftext|>`, `[SEP]`) map to their ids, as in Hugging Face.
   * @param text Any string ('' gives []).
   * @returns Ids [pos].
   * @throws {@link "tfjs-lens"!TokenizerError} if `text` is not a string.
   */
  encode(text: string): number[];
  /**
   * Text of a sequence of ids. Special tokens are kept. GPT-2 does no clean-up of spaces (as
   * TransformerLens decodes), so `decode(encode(s)) === s`; WordPiece joins pieces as HF does.
   * @param ids Ids [pos]; [] gives ''.
   * @returns The text.
   * @throws {@link "tfjs-lens"!TokenizerError} on a non-integer or out-of-range id.
   */
  decode(ids: readonly number[]): string;
  /**
   * The text of one id on its own (GPT-2: `decodeToken(995) === ' world'`), as TL `to_str_tokens`.
   * @param id A token id.
   * @returns Its text.
   * @throws {@link "tfjs-lens"!TokenizerError} on a non-integer or out-of-range id.
   */
  decodeToken(id: number): string;
  /**
   * The vocabulary entry of an id (GPT-2 byte-level form: `idToToken(995) === 'Ġworld'`).
   * @param id A token id.
   * @returns The token string, or undefined for an unknown id.
   */
  idToToken(id: number): string | undefined;
  /**
   * The id of a vocabulary entry (`tokenToId('Ġworld') === 995`, `tokenToId('[CLS]') === 101`).
   * @param token A token string in vocabulary form.
   * @returns Its id, or undefined if absent.
   */
  tokenToId(token: string): number | undefined;
}
