/**
 * RoBERTa's tokenizer (Liu et al. 2019; HF `RobertaTokenizerFast`): GPT-2's byte-level BPE with
 * the specials `<s>` (bos, cls), `</s>` (eos, sep), `<pad>`, `<unk>` and `<mask>`. Rows are wrapped
 * as HF's `RobertaProcessing` post-processor does (`<s> A </s>`, pairs `<s> A </s> </s> B </s>`) by
 * `encodeForEncoder(…, { style: 'roberta' })`; `encode` itself adds nothing.
 */
import { TokenizerError } from '../errors.js';
import { buildByteLevelBpeJson, GPT2_SPLIT } from './gpt2_bpe.js';
import { createEngine, HfTokenizer } from './hf_tokenizer.js';
import {
  modelMaxLengthOf,
  specialTokenString,
  type SpecialTokenField,
  type TokenizerConfigJson,
  type TokenizerJson,
} from './tokenizer_config.js';

/** HF `RobertaTokenizer`'s default special tokens, used where the files name none. */
const ROBERTA_SPECIALS: Readonly<Record<SpecialTokenField, string>> = {
  bos_token: '<s>',
  eos_token: '</s>',
  cls_token: '<s>',
  sep_token: '</s>',
  pad_token: '<pad>',
  unk_token: '<unk>',
  mask_token: '<mask>',
};

/**
 * Whether a `tokenizer.json` wraps rows the RoBERTa way (its post-processor is `RobertaProcessing`).
 * @param json Parsed `tokenizer.json`.
 * @returns True for a RoBERTa-style tokenizer.
 * @example isRobertaTokenizerJson(JSON.parse(text)); // true for FacebookAI/roberta-base
 * @category Tokenizers
 */
export function isRobertaTokenizerJson(json: TokenizerJson): boolean {
  return json.post_processor?.type === 'RobertaProcessing';
}

/**
 * The token string `RobertaProcessing` names for cls or sep (`cls: ['<s>', 0]`), if any.
 * @param json Parsed `tokenizer.json`.
 * @param which 'cls' or 'sep'.
 * @returns The token string, or undefined.
 */
function processorToken(json: TokenizerJson, which: 'cls' | 'sep'): string | undefined {
  const entry: unknown = isRobertaTokenizerJson(json) ? json.post_processor?.[which] : undefined;
  return Array.isArray(entry) && typeof entry[0] === 'string' ? entry[0] : undefined;
}

/**
 * Build RoBERTa's `tokenizer.json` from `vocab.json` + `merges.txt` (HF's slow → fast conversion):
 * GPT-2's byte-level pipeline, the specials as added tokens (`<mask>` strips the space before it)
 * and a `RobertaProcessing` post-processor.
 * @param vocab Parsed `vocab.json`.
 * @param merges Merges from `parseMergesTxt`.
 * @param config Merged tokenizer config (its special tokens override the defaults).
 * @returns The `tokenizer.json` object.
 * @throws {@link "tfjs-lens"!TokenizerError} for a malformed vocabulary.
 * @example const json = buildRobertaBpeJson(vocab, parseMergesTxt(mergesText), {});
 * @category Tokenizers
 */
export function buildRobertaBpeJson(vocab: Record<string, number>, merges: readonly string[], config: TokenizerConfigJson): TokenizerJson {
  const token = (f: SpecialTokenField): string => specialTokenString(config, f) ?? ROBERTA_SPECIALS[f];
  const fields: readonly SpecialTokenField[] = ['bos_token', 'pad_token', 'eos_token', 'unk_token', 'cls_token', 'sep_token', 'mask_token'];
  const json = buildByteLevelBpeJson(vocab, merges, fields.map(token));
  const mask = token('mask_token');
  json.added_tokens = json.added_tokens.map((t) => (t.content === mask ? { ...t, lstrip: true, normalized: false } : t));
  const cls = token('cls_token');
  const sep = token('sep_token');
  json.post_processor = {
    type: 'RobertaProcessing',
    sep: [sep, vocab[sep] ?? 0],
    cls: [cls, vocab[cls] ?? 0],
    trim_offsets: true,
    add_prefix_space: false,
  };
  return json;
}

/**
 * Make a RoBERTa tokenizer (byte-level BPE) from a `tokenizer.json` object. Specials: the config's
 * entries, else the cls/sep that `RobertaProcessing` names, else HF's defaults (`<s>`, `</s>`,
 * `<pad>`, `<unk>`, `<mask>`). Decoding cleans up spaces unless `clean_up_tokenization_spaces` is
 * false (HF's default before transformers 4.45).
 * @param json `tokenizer.json` whose model is BPE.
 * @param config Merged `tokenizer_config.json` + `special_tokens_map.json` ({} if none).
 * @param fn Caller name for error messages.
 * @returns The tokenizer (kind 'bpe', with cls, sep and mask ids).
 * @throws {@link "tfjs-lens"!TokenizerError} if the model is not BPE, the engine rejects the files, or
 *   the vocabulary lacks the cls or sep token.
 * @example const tok = createRobertaTokenizer(JSON.parse(text), { model_max_length: 512 });
 * @category Tokenizers
 */
export function createRobertaTokenizer(json: TokenizerJson, config: TokenizerConfigJson = {}, fn = 'createRobertaTokenizer'): HfTokenizer {
  const model = json.model as TokenizerJson['model'] | undefined;
  if (model === undefined || (model.type !== undefined && model.type !== 'BPE') || !Array.isArray(model.merges)) {
    throw new TokenizerError(`${fn}: tokenizer.json model must be BPE with merges — got type ${String(model?.type)}`);
  }
  const engine = createEngine(json, config, fn);
  const pre = engine.pre_tokenizer;
  if (pre !== null && pre.config?.type === 'ByteLevel' && pre.pattern instanceof RegExp) pre.pattern = GPT2_SPLIT;
  const idOf = (field: SpecialTokenField, fromProcessor?: 'cls' | 'sep'): number | undefined => {
    const fromFiles = specialTokenString(config, field) ?? (fromProcessor === undefined ? undefined : processorToken(json, fromProcessor));
    return engine.token_to_id(fromFiles ?? ROBERTA_SPECIALS[field]);
  };
  const specials = {
    bosTokenId: idOf('bos_token'),
    eosTokenId: idOf('eos_token'),
    padTokenId: idOf('pad_token'),
    unkTokenId: idOf('unk_token'),
    clsTokenId: idOf('cls_token', 'cls'),
    sepTokenId: idOf('sep_token', 'sep'),
    maskTokenId: idOf('mask_token'),
  };
  if (specials.clsTokenId === undefined || specials.sepTokenId === undefined) {
    throw new TokenizerError(`${fn}: RoBERTa tokenizer has no cls/sep token in its vocabulary — expected '<s>' and '</s>' (or the config's cls_token/sep_token)`);
  }
  return new HfTokenizer(engine, {
    kind: 'bpe',
    specials,
    modelMaxLength: modelMaxLengthOf(config),
    cleanUpTokenizationSpaces: config.clean_up_tokenization_spaces ?? true,
  });
}
