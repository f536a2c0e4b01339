/**
 * RoBERTa beyond parity: padding-aware position ids, the byte-level BPE tokenizer with `<s>`/`</s>`
 * (a hand-built tokenizer.json of a few merges, and the same vocabulary as vocab.json + merges.txt),
 * text input through HookedEncoder, the hook contract in every flag combination, and the config
 * mapping.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../../src/backend/backend.js';
import { ConfigError } from '../../../../src/errors.js';
import { FLAG_NAMES, isEnabled, type HookFlags } from '../../../../src/hooks/hook_spec.js';
import { encoderConfigFromHf, type EncoderConfig } from '../../../../src/model/encoder/encoder_config.js';
import { HookedEncoder } from '../../../../src/model/encoder/hooked_encoder.js';
import { encoderMaxLength, encoderPositionIds } from '../../../../src/model/encoder/position_ids.js';
import { randomEncoderParams } from '../../../../src/model/encoder/random_encoder.js';
import { encodeForEncoder } from '../../../../src/tokenizers/batch.js';
import { loadTokenizer } from '../../../../src/tokenizers/load.js';
import type { Tokenizer } from '../../../../src/tokenizers/tokenizer.js';
import { expectNoLeak } from '../../../helpers/memory.js';

/** A RoBERTa-style vocabulary: the four specials first (pad id 1), byte-level pieces, `<mask>` last. */
const PIECES = ['h', 'e', 'l', 'o', 'w', 'r', 'd', 'Ġ', 'he', 'll', 'hell', 'hello', 'Ġw', 'or', 'Ġwor', 'Ġworl', 'Ġworld'];
const VOCAB: Record<string, number> = Object.fromEntries(
  ['<s>', '<pad>', '</s>', '<unk>', ...PIECES, '<mask>'].map((t, i) => [t, i]),
);
const MERGES = ['h e', 'l l', 'he ll', 'hell o', 'Ġ w', 'o r', 'Ġw or', 'Ġwor l', 'Ġworl d'];
const [HELLO, WORLD, MASK] = [VOCAB['hello'], VOCAB['Ġworld'], VOCAB['<mask>']] as [number, number, number];

const added = (content: string, id: number, lstrip = false): object => ({
  id, content, single_word: false, lstrip, rstrip: false, normalized: !lstrip, special: true,
});
/** tokenizer.json as HF writes it for RoBERTa (ByteLevel pipeline, RobertaProcessing). */
const TOKENIZER_JSON = {
  version: '1.0',
  truncation: null,
  padding: null,
  added_tokens: [added('<s>', 0), added('<pad>', 1), added('</s>', 2), added('<unk>', 3), added('<mask>', MASK, true)],
  normalizer: null,
  pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
  post_processor: { type: 'RobertaProcessing', sep: ['</s>', 2], cls: ['<s>', 0], trim_offsets: true, add_prefix_space: false },
  decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
  model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: '', end_of_word_suffix: '', fuse_unk: false, byte_fallback: false, vocab: VOCAB, merges: MERGES },
};

const cfg: EncoderConfig = {
  modelType: 'roberta', nLayers: 2, dModel: 16, nHeads: 2, dHead: 8, dMlp: 32, dVocab: Object.keys(VOCAB).length, nCtx: 12,
  typeVocabSize: 1, actFn: 'gelu', eps: 1e-5, padTokenId: 1,
};

let root: string;
let tok: Tokenizer;
let enc: HookedEncoder;
beforeAll(async () => {
  await initBackend(undefined, { quiet: true });
  root = mkdtempSync(join(tmpdir(), 'roberta-tok-'));
  const dir = join(root, 'json');
  mkdirSync(dir);
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(TOKENIZER_JSON));
  tok = await loadTokenizer(dir, { modelType: 'roberta' });
  enc = new HookedEncoder(cfg, randomEncoderParams(cfg, { seed: 5 }), tok);
});
afterAll(() => {
  enc?.dispose();
  rmSync(root, { recursive: true, force: true });
});

describe('RoBERTa position ids', () => {
  it('count real tokens from pad_token_id + 1; padding (by id, not by mask) takes pad_token_id', () => {
    const tokens = tf.tensor2d([[0, 5, 6, 2, 1, 1], [0, 1, 7, 2, 1, 1]], undefined, 'int32');
    const pos = expectNoLeak(() => encoderPositionIds(tokens, cfg), () => 1);
    expect(pos.dtype).toBe('int32');
    expect(pos.arraySync()).toEqual([[2, 3, 4, 5, 1, 1], [2, 1, 3, 4, 1, 1]]);
    const bert = encoderPositionIds(tokens, { ...cfg, modelType: 'bert' });
    expect(bert.arraySync()).toEqual([[0, 1, 2, 3, 4, 5], [0, 1, 2, 3, 4, 5]]);
    for (const t of [tokens, pos, bert]) t.dispose();
    expect(encoderMaxLength(cfg)).toBe(10);
    expect(encoderMaxLength({ ...cfg, modelType: 'bert' })).toBe(12);
  });
});

describe('RoBERTa tokenizer (byte-level BPE, <s> … </s>)', () => {
  it('loads tokenizer.json with RoBERTa specials; encode adds none', () => {
    expect(tok.kind).toBe('bpe');
    expect([tok.bosTokenId, tok.clsTokenId, tok.padTokenId, tok.eosTokenId, tok.sepTokenId, tok.unkTokenId, tok.maskTokenId]).toEqual([0, 0, 1, 2, 2, 3, MASK]);
    expect(tok.encode('hello world')).toEqual([HELLO, WORLD]);
    expect(tok.decode([0, HELLO, WORLD, 2])).toBe('<s>hello world</s>');
  });

  it('encodeForEncoder wraps rows as RobertaProcessing: <s> A </s>, pairs <s> A </s></s> B </s>, types 0, pad 1', () => {
    const single = encodeForEncoder(tok, ['hello world', 'hello'], { style: 'roberta' });
    expect(single.ids).toEqual([[0, HELLO, WORLD, 2], [0, HELLO, 2, 1]]);
    expect(single.attentionMask).toEqual([[1, 1, 1, 1], [1, 1, 1, 0]]);
    const pair = encodeForEncoder(tok, [['hello', 'world hello']], { style: 'roberta' });
    expect(pair.ids).toEqual([[0, HELLO, 2, 2, ...tok.encode('world hello'), 2]]);
    expect(pair.tokenTypeIds).toEqual([new Array<number>(pair.ids[0]?.length ?? 0).fill(0)]);
    // Pairs reserve four specials when truncating (HF num_special_tokens_to_add(pair=True)).
    const cut = encodeForEncoder(tok, [['hello world hello', 'world hello world']], { style: 'roberta', maxLength: 8 });
    expect(cut.ids[0]).toHaveLength(8);
    expect(cut.ids[0]?.filter((id) => id === 2)).toHaveLength(3);
    expect(() => encodeForEncoder(tok, 'hello', { style: 'gpt2' as 'bert' })).toThrow(ConfigError);
  });

  it('vocab.json + merges.txt give the same tokenizer for model type roberta', async () => {
    const dir = join(root, 'vm');
    mkdirSync(dir);
    writeFileSync(join(dir, 'vocab.json'), JSON.stringify(VOCAB));
    writeFileSync(join(dir, 'merges.txt'), `#version: 0.2\n${MERGES.join('\n')}\n`);
    const vm = await loadTokenizer(dir, { modelType: 'roberta' });
    expect(vm.encode('hello world <mask>')).toEqual(tok.encode('hello world <mask>'));
    expect(vm.encode('hello <mask>')).toEqual([HELLO, MASK]);
    expect([vm.clsTokenId, vm.sepTokenId, vm.padTokenId, vm.maskTokenId]).toEqual([0, 2, 1, MASK]);
  });
});

describe('HookedEncoder with a RoBERTa tokenizer', () => {
  it('text input is wrapped in <s> … </s>, padded with pad id 1, and equals the same ids by hand', () => {
    const b = enc.encode(['hello world', 'hello']);
    expect(b.ids).toEqual([[0, HELLO, WORLD, 2], [0, HELLO, 2, 1]]);
    expect(enc.toStrTokens('hello world')).toEqual(['<s>', 'hello', ' world', '</s>']);
    const a = expectNoLeak(() => enc.forward(['hello world', 'hello'], { returnType: 'embeddings' }), () => 1);
    const c = enc.forward(b.ids, { attentionMask: b.attentionMask, returnType: 'embeddings' });
    expect(Array.from(a.dataSync())).toEqual(Array.from(c.dataSync()));
    a.dispose();
    c.dispose();
  });

  it('hook_pos_embed reads W_pos at the padding-aware ids', () => {
    const [, cache] = enc.runWithCache(['hello world', 'hello'], { namesFilter: 'embed.hook_pos_embed', returnType: 'none' });
    const want = tf.tidy(() => tf.gather(enc.params.W_pos, tf.tensor1d([2, 3, 4, 5, 2, 3, 4, 1], 'int32')).reshape([2, 4, cfg.dModel]));
    expect(Array.from(cache.get('embed.hook_pos_embed').dataSync())).toEqual(Array.from(want.dataSync()));
    want.dispose();
    cache.dispose();
  });

  it('text is truncated to n_ctx − pad_token_id − 1 tokens', () => {
    const long = Array<string>(20).fill('hello').join(' ');
    expect(enc.encode(long).ids[0]).toHaveLength(encoderMaxLength(cfg));
  });
});

describe('RoBERTa hook contract', () => {
  const combos: HookFlags[] = Array.from({ length: 1 << FLAG_NAMES.length }, (_, bits) =>
    Object.fromEntries(FLAG_NAMES.map((f, i) => [f, (bits & (1 << i)) !== 0])),
  );
  it.each(combos.map((f) => [JSON.stringify(f), f] as const))('every enabled hook fires as the table says, token types and MLM head included: %s', (_label, flags) => {
    const specs = enc.hookSpecs(flags).filter((sp) => isEnabled(sp, flags));
    expect(specs.some((sp) => sp.name === 'embed.hook_token_type_embed')).toBe(true);
    expect(specs.some((sp) => sp.name === 'mlm_head.ln.hook_normalized')).toBe(true);
    const counts = new Map<string, number>();
    const hooks = specs.map((sp) => [sp.name, () => void counts.set(sp.name, (counts.get(sp.name) ?? 0) + 1)] as const);
    expectNoLeak(() => enc.withHooks(hooks, () => enc.forward(['hello world', 'hello'], flags), flags).dispose());
    for (const sp of specs) expect(counts.get(sp.name) ?? 0, sp.name).toBe(sp.fires);
    expect(enc.hasHooks()).toBe(false);
  });
});

describe('RoBERTa config.json mapping', () => {
  const hf = {
    model_type: 'roberta', hidden_size: 16, num_hidden_layers: 2, num_attention_heads: 2, intermediate_size: 32,
    vocab_size: 50, max_position_embeddings: 12, type_vocab_size: 1, layer_norm_eps: 1e-5, pad_token_id: 1, hidden_act: 'gelu',
  };
  it('reads every architecture field', () => {
    expect(encoderConfigFromHf(hf)).toEqual({
      modelType: 'roberta', nLayers: 2, dModel: 16, nHeads: 2, dHead: 8, dMlp: 32, dVocab: 50, nCtx: 12, typeVocabSize: 1,
      actFn: 'gelu', eps: 1e-5, padTokenId: 1,
    });
  });
  it('rejects a missing field, a pad id beyond the positions and other model types', () => {
    expect(() => encoderConfigFromHf({ ...hf, hidden_size: undefined })).toThrow(/'hidden_size' must be a positive integer/);
    expect(() => encoderConfigFromHf({ ...hf, pad_token_id: 11 })).toThrow(ConfigError);
    expect(() => encoderConfigFromHf({ ...hf, model_type: 'camembert' })).toThrow(/expected one of bert, distilbert, roberta/);
  });
});
