/** Options of the tokenizer loaders (a type-only module, shared by the Node and browser loaders). */

/** Options of {@link "tfjs-lens"!loadTokenizer} (and of `loadTokenizerFromUrl` in tfjs-lens/browser). @category Tokenizers */
export interface LoadTokenizerOptions {
  /**
   * HF `model_type` the tokenizer must fit: 'gpt2', 'gpt_neo', 'gpt_neox', 'gptj' (BPE),
   * 'roberta' (byte-level BPE with `<s>`/`</s>` as cls/sep) or 'bert', 'distilbert' (WordPiece).
   * Default: config.json's `model_type`. For other or no values the files decide (a
   * `tokenizer.json` with a `RobertaProcessing` post-processor gives a RoBERTa tokenizer).
   */
  readonly modelType?: string;
}
