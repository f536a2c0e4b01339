/**
 * Load a tokenizer from a model folder, offline: `tokenizer.json` (+ `tokenizer_config.json`,
 * `special_tokens_map.json`), else GPT-2's (or RoBERTa's) `vocab.json` + `merges.txt`, else BERT's
 * `vocab.txt`.
 * Follows HF `AutoTokenizer.from_pretrained` file precedence; the shipped GPT-2 and
 * distilbert-base-uncased files are found with {@link shippedTokenizerDir}.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TokenizerError } from '../errors.js';
import type { Tokenizer } from './tokenizer.js';
import { tokenizerFromFiles, type TokenizerFileSource } from './load_core.js';
import type { LoadTokenizerOptions } from './load_options.js';

export type { LoadTokenizerOptions } from './load_options.js';

/** The tokenizers shipped in the package's `tokenizers/` folder. @category Tokenizers */
export type ShippedTokenizerName = 'gpt2' | 'distilbert-base-uncased';

const SHIPPED: readonly ShippedTokenizerName[] = ['gpt2', 'distilbert-base-uncased'];

/**
 * Path of a tokenizer folder shipped with tfjs-lens (`<package>/tokenizers/<name>`). The path is
 * resolved from this module's URL: `src/tokenizers/` (tests, tsx) and `dist/tokenizers/` (built
 * package) both sit two levels below the package root, next to `tokenizers/`.
 * @param name 'gpt2' or 'distilbert-base-uncased'.
 * @returns Absolute folder path.
 * @throws {@link "tfjs-lens"!TokenizerError} for another name.
 * @example const tok = await loadTokenizer(shippedTokenizerDir('gpt2'));
 * @category Tokenizers
 */
export function shippedTokenizerDir(name: ShippedTokenizerName): string {
  if (!SHIPPED.includes(name)) {
    throw new TokenizerError(`shippedTokenizerDir: unknown tokenizer — expected one of ${SHIPPED.join(', ')}, got '${String(name)}'`);
  }
  return fileURLToPath(new URL(`../../tokenizers/${name}`, import.meta.url));
}

/** The folder's files, read lazily; JSON parse errors name the file. */
class FolderFiles implements TokenizerFileSource {
  constructor(
    readonly dir: string,
    readonly names: readonly string[],
  ) {}

  async has(name: string): Promise<boolean> {
    return this.names.includes(name);
  }

  found(): readonly string[] {
    return this.names;
  }

  async text(name: string): Promise<string> {
    return readFile(join(this.dir, name), 'utf8');
  }

  path(name: string): string {
    return join(this.dir, name);
  }
}

async function listFolder(dir: string): Promise<FolderFiles> {
  try {
    const entries = await readdir(dir, { withFileTypes: true });
    return new FolderFiles(dir, entries.filter((e) => e.isFile()).map((e) => e.name).sort());
  } catch (err) {
    const code = (err as { code?: string }).code ?? String(err);
    throw new TokenizerError(
      `loadTokenizer: cannot read tokenizer folder '${dir}' (${code}) — expected a folder with tokenizer.json, ` +
        'vocab.json + merges.txt, or vocab.txt; found: no files',
    );
  }
}

/**
 * Load the tokenizer of a model folder, offline.
 * Order: `tokenizer.json`; else `vocab.json` + `merges.txt` (GPT-2 or, for `modelType` 'roberta',
 * RoBERTa byte-level BPE); else `vocab.txt`
 * (BERT WordPiece, `do_lower_case` from tokenizer_config.json, default true). `tokenizer_config.json`
 * and `special_tokens_map.json` supply special tokens and `model_max_length` (else config.json's
 * `n_positions` / `max_position_embeddings`).
 * @param dir Folder path.
 * @param opts `modelType` to require a GPT-2 or RoBERTa (BPE) or BERT (WordPiece) tokenizer.
 * @returns The tokenizer.
 * @throws {@link "tfjs-lens"!TokenizerError} when the folder is unreadable or has no usable files (the message
 *   lists the files found), a file is malformed (a JSON file that is not an object, a vocabulary that is
 *   not token → integer id, a WordPiece vocabulary without its unknown token, a special token the config
 *   names that is not in the vocabulary; the message names the file), or the tokenizer does not fit `modelType`.
 * @example
 * const tok = await loadTokenizer(shippedTokenizerDir('distilbert-base-uncased'));
 * tok.encode('Héllo'); // [7592]
 * @category Tokenizers
 */
export async function loadTokenizer(dir: string, opts: LoadTokenizerOptions = {}): Promise<Tokenizer> {
  return tokenizerFromFiles(await listFolder(dir), opts);
}
