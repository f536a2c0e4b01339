// loadTokenizer: file precedence (tokenizer.json, vocab.json + merges.txt, vocab.txt), configs,
// model types, and the errors that list a folder's files; shippedTokenizerDir.
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenizerError } from '../../../src/errors.js';
import { loadTokenizer, shippedTokenizerDir, type ShippedTokenizerName } from '../../../src/tokenizers/load.js';
import type { Tokenizer } from '../../../src/tokenizers/tokenizer.js';

const GPT2 = shippedTokenizerDir('gpt2');
const BERT = shippedTokenizerDir('distilbert-base-uncased');
const TEXTS = [
  'Hello world',
  "I'm here, they've gone; it's 3:45pm.",
  '  café 日本 👨‍👩‍👧 \t\n x<|endoftext|>y [CLS] Ünïcödé ~~ 12345678901',
  '',
];

let root: string;
/** A fresh folder under the test root holding `files` copied from `from` plus extra text files. */
function folder(name: string, from: string, files: readonly string[], extra: Record<string, string> = {}): string {
  const dir = join(root, name);
  mkdirSync(dir);
  for (const f of files) copyFileSync(join(from, f), join(dir, f));
  for (const [f, text] of Object.entries(extra)) writeFileSync(join(dir, f), text);
  return dir;
}

let gpt2: Tokenizer;
let bert: Tokenizer;
beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'tfjs-lens-tok-'));
  gpt2 = await loadTokenizer(GPT2);
  bert = await loadTokenizer(BERT);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('shippedTokenizerDir', () => {
  it.each(['gpt2', 'distilbert-base-uncased'] as const)('finds tokenizers/%s at the package root', (name) => {
    const dir = shippedTokenizerDir(name);
    expect(dir.endsWith(join('tokenizers', name))).toBe(true);
    expect(existsSync(join(dir, 'tokenizer.json'))).toBe(true);
  });

  it('rejects other names', () => {
    expect(() => shippedTokenizerDir('llama' as ShippedTokenizerName)).toThrow(/unknown tokenizer — expected one of gpt2, distilbert-base-uncased, got 'llama'/);
  });
});

describe('loadTokenizer: file precedence', () => {
  it('loads GPT-2 from vocab.json + merges.txt alone, with the same ids as tokenizer.json', async () => {
    const tok = await loadTokenizer(folder('gpt2-vm', GPT2, ['vocab.json', 'merges.txt']));
    for (const text of TEXTS) expect(tok.encode(text)).toEqual(gpt2.encode(text));
    expect(tok.vocabSize).toBe(50257);
    expect([tok.bosTokenId, tok.eosTokenId, tok.padTokenId]).toEqual([50256, 50256, 50256]);
    expect(tok.modelMaxLength).toBeUndefined();
  });

  it('takes model_max_length from config.json n_positions when tokenizer_config.json lacks it', async () => {
    const tok = await loadTokenizer(folder('gpt2-vmc', GPT2, ['vocab.json', 'merges.txt', 'config.json']));
    expect(tok.modelMaxLength).toBe(1024);
  });

  it('loads BERT from vocab.txt alone (do_lower_case defaults to true), same ids as tokenizer.json', async () => {
    const tok = await loadTokenizer(folder('bert-v', BERT, ['vocab.txt']));
    for (const text of TEXTS) expect(tok.encode(text)).toEqual(bert.encode(text));
    expect([tok.padTokenId, tok.unkTokenId, tok.clsTokenId, tok.sepTokenId, tok.maskTokenId]).toEqual([0, 100, 101, 102, 103]);
  });

  it('reads do_lower_case and model_max_length from tokenizer_config.json with vocab.txt', async () => {
    const cased = await loadTokenizer(
      folder('bert-vc', BERT, ['vocab.txt'], { 'tokenizer_config.json': '{"do_lower_case": false, "model_max_length": 128}' }),
    );
    expect(cased.encode('Hello hello')).toEqual([100, 7592]);
    expect(cased.modelMaxLength).toBe(128);
  });

  it('lets special_tokens_map.json override tokenizer_config.json', async () => {
    const tok = await loadTokenizer(
      folder('gpt2-stm', GPT2, ['tokenizer.json'], {
        'tokenizer_config.json': '{"pad_token": "Hello"}',
        'special_tokens_map.json': '{"pad_token": {"content": "!", "lstrip": false}}',
      }),
    );
    expect(tok.padTokenId).toBe(0);
    expect(tok.bosTokenId).toBe(50256);
  });

  it('ignores an unbounded model_max_length (HF writes 1e30)', async () => {
    const tok = await loadTokenizer(folder('gpt2-big', GPT2, ['tokenizer.json'], { 'tokenizer_config.json': '{"model_max_length": 1e30}' }));
    expect(tok.modelMaxLength).toBeUndefined();
  });

  it('uses modelType to pick among files and to check tokenizer.json', async () => {
    const both = folder('both', GPT2, ['vocab.json', 'merges.txt']);
    copyFileSync(join(BERT, 'vocab.txt'), join(both, 'vocab.txt'));
    expect((await loadTokenizer(both)).kind).toBe('bpe');
    expect((await loadTokenizer(both, { modelType: 'bert' })).kind).toBe('wordpiece');
    await expect(loadTokenizer(BERT, { modelType: 'gpt2' })).rejects.toThrow(/tokenizer.json in .* is wordpiece — expected bpe/);
  });
});

describe('loadTokenizer: errors', () => {
  it('lists the folder files when nothing is usable', async () => {
    const dir = folder('nothing', GPT2, ['config.json', 'vocab.json']);
    await expect(loadTokenizer(dir)).rejects.toThrow(TokenizerError);
    await expect(loadTokenizer(dir)).rejects.toThrow(
      /loadTokenizer: no usable tokenizer in '.*nothing' — expected tokenizer.json, or vocab.json \+ merges.txt; found: config.json, vocab.json/,
    );
  });

  it('says which files a BERT folder needs', async () => {
    const dir = folder('bert-nothing', BERT, ['config.json']);
    await expect(loadTokenizer(dir, { modelType: 'distilbert' })).rejects.toThrow(/expected tokenizer.json, or vocab.txt; found: config.json/);
  });

  it('reports a missing folder', async () => {
    await expect(loadTokenizer(join(root, 'does-not-exist'))).rejects.toThrow(
      /cannot read tokenizer folder '.*does-not-exist' \(ENOENT\) — expected a folder with tokenizer.json, vocab.json \+ merges.txt, or vocab.txt; found: no files/,
    );
  });

  it('reports an empty folder', async () => {
    const dir = folder('empty', GPT2, []);
    await expect(loadTokenizer(dir)).rejects.toThrow(/found: no files/);
  });

  it('names a file that is not valid JSON', async () => {
    const dir = folder('badjson', GPT2, ['tokenizer.json'], { 'tokenizer_config.json': '{oops' });
    await expect(loadTokenizer(dir)).rejects.toThrow(/tokenizer_config.json in '.*badjson' is not valid JSON/);
  });

  it('rejects an unsupported tokenizer model', async () => {
    const dir = folder('unigram', GPT2, [], { 'tokenizer.json': '{"model": {"type": "Unigram", "vocab": []}}' });
    await expect(loadTokenizer(dir)).rejects.toThrow(/unsupported tokenizer model .* expected BPE or WordPiece, got Unigram/);
  });

  it('wraps engine failures in TokenizerError', async () => {
    const dir = folder('broken', GPT2, [], { 'tokenizer.json': '{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}}' });
    await expect(loadTokenizer(dir)).rejects.toThrow(/loadTokenizer: tokenizer.json is not usable — /);
  });
});
