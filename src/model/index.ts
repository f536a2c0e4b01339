/**
 * tfjs-lens/model: model internals: configs and their Hugging Face mappings, parameter maps, weight processing, random initialisation, the LM loss and generation.
 * @packageDocumentation
 * @module tfjs-lens/model
 */
export { validateConfig } from './config.js';
export { gpt2ConfigFromHf } from './hf_config.js';
export type { HfGpt2Config } from './hf_config.js';
export { gpt2ParamsFromHf } from './weights/gpt2.js';
export { disposeParams } from './params.js';
export { processWeights, DEFAULT_PROCESSING, NO_PROCESSING } from './weight_processing.js';
export { lmCrossEntropy } from './loss.js';
export { generate } from './generate.js';
export type { GenerativeModel } from './generate.js';
export { randomDecoderParams } from './random_init.js';
export { encoderConfigFromHf } from './encoder/encoder_config.js';
export type { HfBertConfig, HfDistilBertConfig } from './encoder/encoder_config.js';
export { encoderParamsFromHf } from './encoder/encoder_weights.js';
export { disposeEncoderParams, encoderStateDict } from './encoder/encoder_params.js';
export { randomEncoderParams } from './encoder/random_encoder.js';
export { seededRng } from '../utils/rng.js';
export type { Rng } from '../utils/rng.js';
