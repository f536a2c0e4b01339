/**
 * tfjs-lens: mechanistic interpretability for TypeScript on TensorFlow.js. The root entry holds the
 * core: the hooked models, hooks and the activation cache, errors, tokenizers, loading and the
 * backend. Everything built on them has its own entry point: `tfjs-lens/patching`, `/analysis`,
 * `/evals`, `/sae`, `/circuits`, `/probe`, `/viz`, `/train`, `/data`, `/io` and `/model` (model
 * internals: configs, parameter maps, weight processing).
 * @packageDocumentation
 * @module tfjs-lens
 */

/**
 * The `@tensorflow/tfjs-core` namespace the library runs on, with the autodiff gradients registered.
 * Build tensors for models and hooks with it.
 * @category Backend
 */
export { tf } from './backend/backend.js';
export { initBackend, backendInfo } from './backend/backend.js';
export type { BackendInfo, BackendName } from './backend/backend.js';
export type { NativeMatmulInfo } from './backend/native_matmul.js';
export type { MatmulPath } from './backend/native_select.js';
// Errors, hooks, models (shared with the browser entry).
export * from './core_exports.js';
// Tokenizers and loading.
export { loadTokenizer, shippedTokenizerDir } from './tokenizers/load.js';
export type { LoadTokenizerOptions, ShippedTokenizerName } from './tokenizers/load.js';
export type { SpecialTokenIds, Tokenizer, TokenizerKind } from './tokenizers/tokenizer.js';
export { encodeForDecoder, encodeForEncoder } from './tokenizers/batch.js';
export { tokenizeAndConcatenate } from './tokenizers/concatenate.js';
export { getAttentionMask } from './tokenizers/attention_mask.js';
export type { TextRow, TokenizeAndConcatenateOptions } from './tokenizers/concatenate.js';
export type { BatchEncoding, DecoderEncodeOptions, EncoderEncodeOptions } from './tokenizers/batch.js';
export type { HubOptions } from './io/hub.js';
