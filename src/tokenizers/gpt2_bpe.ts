/**
 * GPT-2 byte-level BPE (Radford et al. 2019; OpenAI gpt-2 `src/encoder.py`, HF `GPT2TokenizerFast`):
 * from `tokenizer.json`, or from `vocab.json` + `merges.txt` by building the same `tokenizer.json`
 * object in memory. Special tokens follow TransformerLens: `<|endoftext|>` is eos, and bos and pad
 * default to eos. Engine fix: HF's regex engine reads GPT-2's `\s` as Unicode White_Space, JS `\s`
 * does not (it lacks U+0085, adds U+FEFF), so we give the pre-tokenizer an explicit White_Space regex.
 */
import { TokenizerError } from '../errors.js';
import { createEngine, HfTokenizer } from './hf_tokenizer.js';
import {
  modelMaxLengthOf,
  specialTokenString,
  type AddedTokenJson,
  type SpecialTokenField,
  type TokenizerConfigJson,
  type TokenizerJson,
} from './tokenizer_config.js';

/** GPT-2's end-of-text token: its bos, eos and pad. @category Tokenizers */
const GPT2_EOT = '<|endoftext|>';

/**
 * GPT-2's split regex (encoder.py) with `\s`/`\S` written as `\p{White_Space}` so JS matches Python
 * `regex` / Oniguruma. Differences left: characters assigned after the HF build's Unicode tables
 * (Unicode ≥ 16), which Node's newer ICU already classes as letters or digits.
 */
export const GPT2_SPLIT =
  /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\p{White_Space}\p{L}\p{N}]+|\p{White_Space}+(?!\P{White_Space})|\p{White_Space}+/gu;

/**
 * Parse `merges.txt`: an optional `#version` line, then one merge `left right` per line.
 * @param text File contents.
 * @returns Merges in HF's `"left right"` form, in rank order.
 * @throws {@link "tfjs-lens"!TokenizerError} for a line that is not two space-separated tokens.
 * @example parseMergesTxt('#version: 0.2\nĠ t\nĠ a\n'); // ['Ġ t', 'Ġ a']
 * @category Tokenizers
 */
export function parseMergesTxt(text: string): string[] {
  const merges: string[] = [];
  const lines = text.split('\n');
  lines.forEach((raw, i) => {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.length === 0 || (i === 0 && line.startsWith('#version'))) return;
    const parts = line.split(' ');
    if (parts.length !== 2 || parts[0] === '' || parts[1] === '') {
      throw new TokenizerError(
        `parseMergesTxt: bad merge on line ${i + 1} — expected 'left right', got ${JSON.stringify(line.slice(0, 60))}`,
      );
    }
    merges.push(line);
  });
  if (merges.length === 0) throw new TokenizerError('parseMergesTxt: no merges — expected ≥ 1 line after #version');
  return merges;
}

function checkVocab(vocab: unknown, fn: string): Record<string, number> {
  if (vocab === null || typeof vocab !== 'object' || Array.isArray(vocab)) {
    throw new TokenizerError(`${fn}: vocab must be an object of token → id — got ${Array.isArray(vocab) ? 'array' : typeof vocab}`);
  }
  const entries = Object.entries(vocab);
  if (entries.length === 0) throw new TokenizerError(`${fn}: vocab is empty — expected ≥ 1 token`);
  for (const [token, id] of entries) {
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0) {
      throw new TokenizerError(`${fn}: vocab id of ${JSON.stringify(token)} must be an integer ≥ 0 — got ${String(id)}`);
    }
  }
  return vocab as Record<string, number>;
}

/**
 * Build GPT-2's `tokenizer.json` from `vocab.json` + `merges.txt`, as HF's slow → fast conversion
 * does (byte-level pre-tokenizer and decoder, no normalizer, special tokens as added tokens).
 * @param vocab Parsed `vocab.json` (byte-level token → id).
 * @param merges Merges from {@link parseMergesTxt}.
 * @param specialTokens Special-token strings; those present in `vocab` become added tokens.
 * @returns The `tokenizer.json` object (equal to openai-community/gpt2's, plus `model.type`).
 * @throws {@link "tfjs-lens"!TokenizerError} for a malformed vocabulary.
 * @example const json = buildByteLevelBpeJson(vocab, parseMergesTxt(mergesText));
 * @category Tokenizers
 */
export function buildByteLevelBpeJson(
  vocab: Record<string, number>,
  merges: readonly string[],
  specialTokens: readonly string[] = [GPT2_EOT],
): TokenizerJson {
  const v = checkVocab(vocab, 'buildByteLevelBpeJson');
  const added: AddedTokenJson[] = [...new Set(specialTokens)]
    .filter((t) => Object.hasOwn(v, t))
    .map((content) => ({
      id: v[content] as number,
      special: true,
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: true,
    }))
    .sort((a, b) => a.id - b.id);
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true },
    post_processor: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: '',
      end_of_word_suffix: '',
      fuse_unk: false,
      vocab: v,
      merges: [...merges],
    },
  };
}

/**
 * Make a GPT-2-style byte-level BPE tokenizer from a `tokenizer.json` object.
 * Specials: eos = config `eos_token` else `<|endoftext|>`; bos and pad = their config entries, else
 * eos (TransformerLens sets pad = bos = eos when missing). Decoding does no space clean-up.
 * @param json `tokenizer.json` whose model is BPE.
 * @param config Merged `tokenizer_config.json` + `special_tokens_map.json` ({} if none).
 * @param fn Caller name for error messages.
 * @returns The tokenizer (kind 'bpe').
 * @throws {@link "tfjs-lens"!TokenizerError} if the model is not BPE or the engine rejects the files.
 * @example const tok = createGpt2Tokenizer(JSON.parse(text), { model_max_length: 1024 });
 * @category Tokenizers
 */
export function createGpt2Tokenizer(
  json: TokenizerJson,
  config: TokenizerConfigJson = {},
  fn = 'createGpt2Tokenizer',
): HfTokenizer {
  const model = json.model as TokenizerJson['model'] | undefined;
  if (model === undefined || (model.type !== undefined && model.type !== 'BPE') || !Array.isArray(model.merges)) {
    throw new TokenizerError(`${fn}: tokenizer.json model must be BPE with merges — got type ${String(model?.type)}`);
  }
  const engine = createEngine(json, config, fn);
  const pre = engine.pre_tokenizer;
  if (pre !== null && pre.config?.type === 'ByteLevel' && pre.pattern instanceof RegExp) pre.pattern = GPT2_SPLIT;
  const idOf = (field: SpecialTokenField): number | undefined => {
    const token = specialTokenString(config, field);
    return token === undefined ? undefined : engine.token_to_id(token);
  };
  const eos = idOf('eos_token') ?? engine.token_to_id(GPT2_EOT);
  const specials = {
    eosTokenId: eos,
    bosTokenId: idOf('bos_token') ?? eos,
    padTokenId: idOf('pad_token') ?? eos,
    unkTokenId: idOf('unk_token'),
    clsTokenId: undefined,
    sepTokenId: undefined,
    maskTokenId: undefined,
  };
  return new HfTokenizer(engine, {
    kind: 'bpe',
    specials,
    modelMaxLength: modelMaxLengthOf(config),
    cleanUpTokenizationSpaces: false,
  });
}
