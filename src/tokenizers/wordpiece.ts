/**
 * BERT / DistilBERT WordPiece (Devlin et al. 2019; google-research/bert `tokenization.py`, HF
 * `BertTokenizerFast`): from `tokenizer.json`, or from `vocab.txt` by building the same
 * `tokenizer.json` object in memory. Special tokens are looked up by string (`[PAD]`, `[UNK]`,
 * `[CLS]`, `[SEP]`, `[MASK]`) unless the config names others. Engine fix: tokenizers.js puts spaces
 * around CJK ideographs one UTF-16 unit at a time, so it misses those outside the BMP (CJK Ext. B+);
 * we space those ourselves, with HF Rust's ranges (which skip U+2B820–U+2B91F).
 */
import { TokenizerError } from '../errors.js';
import { createEngine, HfTokenizer } from './hf_tokenizer.js';
import {
  modelMaxLengthOf,
  specialTokenString,
  type AddedTokenJson,
  type SpecialTokenField,
  type StageJson,
  type TokenizerConfigJson,
  type TokenizerJson,
} from './tokenizer_config.js';

/** BERT's default special-token strings. @category Tokenizers */
const BERT_SPECIAL_TOKENS = {
  pad_token: '[PAD]',
  unk_token: '[UNK]',
  cls_token: '[CLS]',
  sep_token: '[SEP]',
  mask_token: '[MASK]',
} as const;

/** Supplementary-plane CJK ideographs, as HF Rust `is_chinese_char` lists them. */
const CJK_SUPPLEMENTARY = /[\u{20000}-\u{2A6DF}\u{2A700}-\u{2B81F}\u{2B920}-\u{2CEAF}\u{2F800}-\u{2FA1F}]/gu;

function spaceSupplementaryCjk(text: string): string {
  return text.replace(CJK_SUPPLEMENTARY, ' $& ');
}

/**
 * Parse `vocab.txt`: one token per line, the id is the line number (from 0).
 * @param text File contents.
 * @returns Token → id.
 * @throws {@link "tfjs-lens"!TokenizerError} if the file holds no token.
 * @example parseVocabTxt('[PAD]\n[UNK]\nhello\n'); // { '[PAD]': 0, '[UNK]': 1, hello: 2 }
 * @category Tokenizers
 */
export function parseVocabTxt(text: string): Record<string, number> {
  const lines = text.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  const map = new Map<string, number>();
  lines.forEach((raw, i) => map.set(raw.endsWith('\r') ? raw.slice(0, -1) : raw, i));
  if (map.size === 0) throw new TokenizerError('parseVocabTxt: vocab.txt is empty — expected one token per line');
  return Object.fromEntries(map);
}

/** Options of {@link buildWordPieceJson}. @category Tokenizers */
interface WordPieceBuildOptions {
  /** Lowercase (and strip accents), as `do_lower_case` (default true: uncased BERT). */
  readonly lowercase?: boolean;
  /** Special-token strings (defaults: {@link BERT_SPECIAL_TOKENS}). */
  readonly specialTokens?: Partial<Record<keyof typeof BERT_SPECIAL_TOKENS, string>>;
}

function templateProcessor(cls: string, sep: string, clsId: number, sepId: number): StageJson {
  const special = (id: string, typeId: number) => ({ SpecialToken: { id, type_id: typeId } });
  const seq = (id: string, typeId: number) => ({ Sequence: { id, type_id: typeId } });
  return {
    type: 'TemplateProcessing',
    single: [special(cls, 0), seq('A', 0), special(sep, 0)],
    pair: [special(cls, 0), seq('A', 0), special(sep, 0), seq('B', 1), special(sep, 1)],
    special_tokens: {
      [cls]: { id: cls, ids: [clsId], tokens: [cls] },
      [sep]: { id: sep, ids: [sepId], tokens: [sep] },
    },
  };
}

/**
 * Build BERT's `tokenizer.json` from `vocab.txt`, as HF's slow → fast conversion does.
 * @param vocab Token → id, from {@link parseVocabTxt}.
 * @param opts Lowercasing and special-token strings.
 * @returns The `tokenizer.json` object (equal to bert-base-uncased's, plus `model.type`).
 * @throws {@link "tfjs-lens"!TokenizerError} if the vocabulary lacks the unknown token.
 * @example const json = buildWordPieceJson(parseVocabTxt(text), { lowercase: true });
 * @category Tokenizers
 */
export function buildWordPieceJson(vocab: Record<string, number>, opts: WordPieceBuildOptions = {}): TokenizerJson {
  const names = { ...BERT_SPECIAL_TOKENS, ...opts.specialTokens };
  const idOf = (t: string): number | undefined => (Object.hasOwn(vocab, t) ? vocab[t] : undefined);
  const unkId = idOf(names.unk_token);
  if (unkId === undefined) {
    throw new TokenizerError(`buildWordPieceJson: vocab.txt lacks the unknown token — expected a line '${names.unk_token}'`);
  }
  const added: AddedTokenJson[] = [...new Set(Object.values(names))]
    .filter((t) => idOf(t) !== undefined)
    .map((content) => ({
      id: idOf(content) as number,
      special: true,
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
    }))
    .sort((a, b) => a.id - b.id);
  const clsId = idOf(names.cls_token);
  const sepId = idOf(names.sep_token);
  const lowercase = opts.lowercase ?? true;
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor:
      clsId === undefined || sepId === undefined ? null : templateProcessor(names.cls_token, names.sep_token, clsId, sepId),
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: {
      type: 'WordPiece',
      unk_token: names.unk_token,
      continuing_subword_prefix: '##',
      max_input_chars_per_word: 100,
      vocab,
    },
  };
}

/**
 * Apply `tokenizer_config.json`'s `do_lower_case` / `strip_accents` / `tokenize_chinese_chars` to a
 * BertNormalizer, as HF `BertTokenizerFast.__init__` does (the config wins over tokenizer.json).
 */
function withConfigNormalizer(json: TokenizerJson, config: TokenizerConfigJson): TokenizerJson {
  const norm = json.normalizer;
  if (norm === null || norm.type !== 'BertNormalizer') return json;
  const next: StageJson = { ...norm };
  if (typeof config.do_lower_case === 'boolean') next.lowercase = config.do_lower_case;
  if (config.strip_accents !== undefined) next.strip_accents = config.strip_accents;
  if (typeof config.tokenize_chinese_chars === 'boolean') next.handle_chinese_chars = config.tokenize_chinese_chars;
  return { ...json, normalizer: next };
}

/**
 * Make a BERT-style WordPiece tokenizer from a `tokenizer.json` object.
 * Specials: the config's `pad_token`, `unk_token`, `cls_token`, `sep_token`, `mask_token`, else
 * `[PAD]`, `[UNK]`, `[CLS]`, `[SEP]`, `[MASK]` looked up in the vocabulary; bos/eos only if the
 * config names them. Decoding cleans up spaces unless `clean_up_tokenization_spaces` is false.
 * @param json `tokenizer.json` whose model is WordPiece.
 * @param config Merged `tokenizer_config.json` + `special_tokens_map.json` ({} if none).
 * @param fn Caller name for error messages.
 * @returns The tokenizer (kind 'wordpiece').
 * @throws {@link "tfjs-lens"!TokenizerError} if the model is not WordPiece or the engine rejects the files.
 * @example const tok = createWordPieceTokenizer(JSON.parse(text), { do_lower_case: true });
 * @category Tokenizers
 */
export function createWordPieceTokenizer(
  json: TokenizerJson,
  config: TokenizerConfigJson = {},
  fn = 'createWordPieceTokenizer',
): HfTokenizer {
  const model = json.model as TokenizerJson['model'] | undefined;
  const isWordPiece = model !== undefined && (model.type === 'WordPiece' || (model.type === undefined && model.merges === undefined));
  if (!isWordPiece) {
    throw new TokenizerError(`${fn}: tokenizer.json model must be WordPiece — got type ${String(model?.type)}`);
  }
  const effective = withConfigNormalizer(json, config);
  const engine = createEngine(effective, config, fn);
  const idOf = (field: SpecialTokenField): number | undefined => {
    const fallback = field in BERT_SPECIAL_TOKENS ? BERT_SPECIAL_TOKENS[field as keyof typeof BERT_SPECIAL_TOKENS] : undefined;
    const token = specialTokenString(config, field) ?? fallback;
    return token === undefined ? undefined : engine.token_to_id(token);
  };
  const specials = {
    bosTokenId: idOf('bos_token'),
    eosTokenId: idOf('eos_token'),
    padTokenId: idOf('pad_token'),
    unkTokenId: idOf('unk_token'),
    clsTokenId: idOf('cls_token'),
    sepTokenId: idOf('sep_token'),
    maskTokenId: idOf('mask_token'),
  };
  const spacesCjk = effective.normalizer?.type === 'BertNormalizer' && effective.normalizer.handle_chinese_chars !== false;
  return new HfTokenizer(engine, {
    kind: 'wordpiece',
    specials,
    modelMaxLength: modelMaxLengthOf(config),
    cleanUpTokenizationSpaces: config.clean_up_tokenization_spaces ?? true,
    ...(spacesCjk ? { preprocess: spaceSupplementaryCjk } : {}),
  });
}
