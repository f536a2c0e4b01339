/**
 * Browser twin of load.ts (chosen by scripts/build_browser.ts): there is no folder to read, so the
 * folder loader and the shipped-tokenizer path throw a {@link "tfjs-lens"!UsageError} pointing at
 * `loadTokenizerFromUrl`.
 */
import type { Tokenizer } from './tokenizer.js';
import type { LoadTokenizerOptions } from './load_options.js';
import { browserFsError } from '../utils/browser_fs.js';

export type { LoadTokenizerOptions } from './load_options.js';

/** The tokenizers shipped in the package's `tokenizers/` folder. */
export type ShippedTokenizerName = 'gpt2' | 'distilbert-base-uncased';

/** Not available in the browser: serve the `tokenizers/<name>` folder and use loadTokenizerFromUrl. */
export function shippedTokenizerDir(name: ShippedTokenizerName): string {
  throw browserFsError('shippedTokenizerDir', name, `serve the package's tokenizers/${name} folder and call loadTokenizerFromUrl(url)`);
}

/** Not available in the browser: use loadTokenizerFromUrl(baseUrl). */
export async function loadTokenizer(dir: string, _opts: LoadTokenizerOptions = {}): Promise<Tokenizer> {
  throw browserFsError('loadTokenizer', dir, 'use loadTokenizerFromUrl(baseUrl)');
}
