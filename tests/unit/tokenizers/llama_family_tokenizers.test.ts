/**
 * Tokenizers of the Llama-family layouts, loaded from a repo's tokenizer.json through the same
 * engine: Llama-2 style (Metaspace-like normaliser "▁", BPE with byte fallback, <s>/</s>) and
 * Qwen2 / Llama-3 style (Split regex + ByteLevel without its own regex). The vocabularies are tiny and
 * hand-made; the expected ids follow from the BPE merge ranks and byte fallback by hand (see comments).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeForDecoder } from '../../../src/tokenizers/batch.js';
import { loadTokenizer } from '../../../src/tokenizers/load.js';

function folder(files: Record<string, unknown>): string {
  const dir = mkdtempSync(join(tmpdir(), 'tok-'));
  for (const [name, body] of Object.entries(files)) writeFileSync(join(dir, name), JSON.stringify(body));
  return dir;
}

describe('Llama-2 style tokenizer.json (byte-fallback BPE)', () => {
  const vocab: Record<string, number> = { '<unk>': 0, '<s>': 1, '</s>': 2 };
  for (let b = 0; b < 256; b++) vocab[`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`] = 3 + b;
  const pieces = ['▁', 'h', 'e', 'l', 'o', 'w', 'r', 'd', '▁h', '▁he', 'll', '▁hell', '▁hello', '▁w', 'or', '▁wor', 'ld', '▁world'];
  pieces.forEach((p, i) => (vocab[p] = 259 + i));
  const merges = ['▁ h', '▁h e', 'l l', '▁he ll', '▁hell o', '▁ w', 'o r', '▁w or', 'l d', '▁wor ld'];
  const special = (id: number, content: string) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
  const json = {
    version: '1.0',
    added_tokens: [special(0, '<unk>'), special(1, '<s>'), special(2, '</s>')],
    normalizer: { type: 'Sequence', normalizers: [{ type: 'Prepend', prepend: '▁' }, { type: 'Replace', pattern: { String: ' ' }, content: '▁' }] },
    pre_tokenizer: null,
    post_processor: null,
    decoder: {
      type: 'Sequence',
      decoders: [
        { type: 'Replace', pattern: { String: '▁' }, content: ' ' }, { type: 'ByteFallback' }, { type: 'Fuse' },
        { type: 'Strip', content: ' ', start: 1, stop: 0 },
      ],
    },
    model: { type: 'BPE', dropout: null, unk_token: '<unk>', continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: true, byte_fallback: true, vocab, merges },
  };
  const dir = folder({ 'tokenizer.json': json, 'tokenizer_config.json': { bos_token: '<s>', eos_token: '</s>', unk_token: '<unk>' }, 'config.json': { model_type: 'llama' } });

  it('merges by rank: "hello world" → ▁hello ▁world; BOS <s> prepended by encodeForDecoder', async () => {
    const tok = await loadTokenizer(dir);
    expect(tok.encode('hello world')).toEqual([vocab['▁hello'], vocab['▁world']]);
    expect(tok.bosTokenId).toBe(1);
    expect(tok.eosTokenId).toBe(2);
    expect(encodeForDecoder(tok, 'hello world').ids).toEqual([[1, vocab['▁hello'], vocab['▁world']]]);
    expect(tok.decode(tok.encode('hello world'))).toBe('hello world');
  });

  it('characters outside the vocabulary fall back to their UTF-8 bytes and decode back', async () => {
    const tok = await loadTokenizer(dir);
    // "hé": ▁ h merge → ▁h; é is not in the vocabulary → <0xC3> <0xA9> (UTF-8 C3 A9).
    expect(tok.encode('hé')).toEqual([vocab['▁h'], 3 + 0xc3, 3 + 0xa9]);
    expect(tok.decode(tok.encode('hé world'))).toBe('hé world');
  });
});

describe('Qwen2 / Llama-3 style tokenizer.json (Split regex + ByteLevel)', () => {
  // Byte-level alphabet: printable ASCII maps to itself, space to Ġ.
  const pieces = ['h', 'e', 'l', 'o', 'Ġ', 'w', 'r', 'd', '1', '2', '3', 'he', 'll', 'hell', 'hello', 'Ġw', 'or', 'Ġwor', 'ld', 'Ġworld', '12'];
  const vocab: Record<string, number> = Object.fromEntries(pieces.map((p, i) => [p, i]));
  vocab['<|endoftext|>'] = pieces.length;
  const merges = ['h e', 'l l', 'he ll', 'hell o', 'Ġ w', 'o r', 'Ġw or', 'l d', 'Ġwor ld', '1 2'];
  const json = {
    version: '1.0',
    added_tokens: [{ id: pieces.length, content: '<|endoftext|>', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }],
    normalizer: null,
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [
        // Qwen2's split: digits one at a time (\p{N}), words with a leading space.
        { type: 'Split', pattern: { Regex: "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+" }, behavior: 'Isolated', invert: false },
        { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false },
      ],
    },
    post_processor: null,
    decoder: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false },
    model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: '', end_of_word_suffix: '', fuse_unk: false, byte_fallback: false, vocab, merges },
  };
  const dir = folder({ 'tokenizer.json': json, 'tokenizer_config.json': { eos_token: '<|endoftext|>' }, 'config.json': { model_type: 'qwen2' } });

  it('keeps the checkpoint\'s split regex (digits one by one) and byte-level merges', async () => {
    const tok = await loadTokenizer(dir);
    // "hello world123": split → "hello", " world", "1", "2", "3"; " world" → Ġworld by the merges. With
    // GPT-2's regex "123" would be one piece and the "1 2" merge would give "12", "3".
    expect(tok.encode('hello world123')).toEqual([vocab['hello'], vocab['Ġworld'], vocab['1'], vocab['2'], vocab['3']]);
    expect(tok.decode(tok.encode('hello world123'))).toBe('hello world123');
  });
});
