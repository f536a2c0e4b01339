/**
 * Browser twin of checkpoint.ts (chosen by scripts/build_browser.ts): the pure checkpoint helpers;
 * the folder readers throw a {@link "tfjs-lens"!UsageError} pointing at the URL loaders.
 */
import { browserFsError } from '../utils/browser_fs.js';
import type { RawTensor } from './safetensors_bytes.js';

export { parseShardIndex, SAFETENSORS_FILE, SAFETENSORS_INDEX_FILE } from './checkpoint_bytes.js';
export type { ShardIndex } from './checkpoint_bytes.js';

/** Not available in the browser: fetch the text and `JSON.parse` it. */
export async function readJsonFile<T>(path: string, _what: string): Promise<T> {
  throw browserFsError('readJsonFile', path, 'fetch the file and parse it');
}

/** Not available in the browser: use loadTransformerFromUrl / loadEncoderFromUrl. */
export async function loadCheckpointTensors(dir: string, _opts: { readonly allowNonFinite?: boolean } = {}): Promise<Map<string, RawTensor>> {
  throw browserFsError('loadCheckpointTensors', dir, 'use loadTransformerFromUrl(baseUrl) or loadEncoderFromUrl(baseUrl)');
}
