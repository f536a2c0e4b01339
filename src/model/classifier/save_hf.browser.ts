/**
 * Browser twin of save_hf.ts (chosen by scripts/build_browser.ts): saving a checkpoint folder needs
 * the file system, so `saveHf` throws a {@link "tfjs-lens"!UsageError}.
 */
import { browserFsError } from '../../utils/browser_fs.js';
import type { ModelConfig } from '../config.js';
import type { EncoderConfig } from '../encoder/encoder_config.js';
import type { EncoderParams } from '../encoder/encoder_params.js';
import type { DecoderParams } from '../params.js';
import type { SequenceClassifier } from './head_params.js';

/** Not available in the browser (no file system). */
export async function saveEncoderHf(dir: string, _cfg: EncoderConfig, _p: EncoderParams, _clf: SequenceClassifier | undefined): Promise<string> {
  throw browserFsError('HookedEncoder.saveHf', dir, 'saving a checkpoint folder needs Node');
}

/** Not available in the browser (no file system). */
export async function saveDecoderHf(dir: string, _cfg: ModelConfig, _p: DecoderParams, _clf: SequenceClassifier | undefined): Promise<string> {
  throw browserFsError('HookedTransformer.saveHf', dir, 'saving a checkpoint folder needs Node');
}
