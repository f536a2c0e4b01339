/**
 * Browser twin of load_encoder.ts (chosen by scripts/build_browser.ts): `fromPretrained` needs a
 * folder or the hub cache, so it throws a {@link "tfjs-lens"!UsageError} pointing at
 * `loadEncoderFromUrl`.
 */
import { browserFsError } from '../../utils/browser_fs.js';
import type { EncoderFromPretrainedOptions } from './load_encoder.js';

export type { EncoderFromPretrainedOptions } from './load_encoder.js';

/** Not available in the browser: use loadEncoderFromUrl(baseUrl). */
export async function loadEncoder(nameOrPath: string, _opts: EncoderFromPretrainedOptions = {}): Promise<never> {
  throw browserFsError('HookedEncoder.fromPretrained', nameOrPath, 'use loadEncoderFromUrl(baseUrl) from tfjs-lens/browser');
}
