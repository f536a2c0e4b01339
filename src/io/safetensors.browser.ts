/**
 * Browser twin of safetensors.ts (chosen by scripts/build_browser.ts): the same in-memory parser and
 * serialiser; the file functions throw a {@link "tfjs-lens"!UsageError} pointing at the URL loaders.
 */
import { browserFsError } from '../utils/browser_fs.js';
import type { SafetensorsContents, TensorToWrite } from './safetensors_bytes.js';

export { fsError, parseSafetensors, serializeSafetensors } from './safetensors_bytes.js';
export type { RawTensor, SafeDtype, SafetensorsContents, TensorToWrite } from './safetensors_bytes.js';

/** Not available in the browser: fetch the bytes and use `parseSafetensors` (or the URL loaders). */
export async function readSafetensorsFile(path: string): Promise<SafetensorsContents> {
  throw browserFsError('readSafetensorsFile', path, 'fetch the file and call parseSafetensors(bytes), or use loadTransformerFromUrl / loadSaeFromUrl');
}

/** Not available in the browser: `serializeSafetensors` gives the bytes to offer as a download. */
export async function writeSafetensorsFile(
  path: string,
  _tensors: Map<string, TensorToWrite> | Record<string, TensorToWrite>,
  _metadata?: Record<string, string>,
): Promise<void> {
  throw browserFsError('writeSafetensorsFile', path, 'serializeSafetensors(tensors) gives the bytes (e.g. for a Blob download)');
}
