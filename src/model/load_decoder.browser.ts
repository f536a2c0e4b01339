/**
 * Browser twin of load_decoder.ts (chosen by scripts/build_browser.ts): `fromPretrained` needs a
 * folder or the hub cache, so it throws a {@link "tfjs-lens"!UsageError} pointing at
 * `loadTransformerFromUrl`; the pure helpers are the same.
 */
import { browserFsError } from '../utils/browser_fs.js';
import type { ProcessingOptions } from './weight_processing.js';
import type { FromPretrainedOptions } from './load_decoder.js';

export { checkDefaults, pickProcessing } from './load_decoder_core.js';
export type { FromPretrainedOptions } from './load_decoder.js';

/** Not available in the browser: use loadTransformerFromUrl(baseUrl). */
export async function loadDecoder(nameOrPath: string, _processing: ProcessingOptions, _opts: FromPretrainedOptions = {}): Promise<never> {
  throw browserFsError('HookedTransformer.fromPretrained', nameOrPath, 'use loadTransformerFromUrl(baseUrl) from tfjs-lens/browser');
}
