/**
 * tfjs-lens: mechanistic interpretability for TypeScript on TensorFlow.js. The only barrel:
 * named re-exports of the public API (STYLE Convention 3).
 * @packageDocumentation
 */

/**
 * The `@tensorflow/tfjs-core` namespace the library runs on, with the autodiff gradients registered.
 * Build tensors for models and hooks with it.
 * @category Backend
 */
export { tf } from './backend.js';
export { initBackend, backendInfo } from './backend.js';
export type { BackendInfo, BackendName } from './backend.js';
export * from './errors.js';
export { HookPoint } from './hooks/hook_point.js';
export type { HookContext, HookFn } from './hooks/hook_point.js';
export { HookedRoot } from './hooks/hook_registry.js';
export type { AddHookOptions, FwdHooks, HookTarget } from './hooks/hook_registry.js';
export { actName, decoderHookSpecs, nearestNames } from './hooks/hook_names.js';
export type { HookFlags, HookSpec, HookTableConfig } from './hooks/hook_names.js';
export { ActivationCache } from './hooks/activation_cache.js';
export { HookedTransformer } from './model/hooked_transformer.js';
export type {
  ForwardOptions,
  ForwardOutput,
  LogitsAndLoss,
  ReturnType,
  RunWithCacheOptions,
  RunWithHooksOptions,
} from './model/hooked_transformer.js';
export type { FromPretrainedOptions } from './model/load_decoder.js';
export { GPT2_PRESETS, validateConfig } from './model/config.js';
export type { ActFn, ModelConfig, NormalizationType } from './model/config.js';
export { gpt2ConfigFromHf } from './model/hf_config.js';
export type { HfGpt2Config } from './model/hf_config.js';
export { gpt2ParamsFromHf } from './model/weights/gpt2.js';
export { disposeParams } from './model/params.js';
export type { AttnParams, BlockParams, DecoderParams, LayerNormParams, MlpParams } from './model/params.js';
export { processWeights, DEFAULT_PROCESSING, NO_PROCESSING } from './model/weight_processing.js';
export type { ProcessingOptions } from './model/weight_processing.js';
export { WeightsView, tlStateDict } from './model/weights_view.js';
export type { WeightName } from './model/weights_view.js';
export { lmCrossEntropy } from './model/loss.js';
export { generate } from './model/generate.js';
export type { GenerateOptions, GenerateOutput, GenerativeModel } from './model/generate.js';
export type { SamplingOptions } from './model/sampling.js';
export type { ModelInput, TensorLike, TokenInput, TokenizeOptions } from './model/inputs.js';
export { seededRng } from './utils/rng.js';
export type { Rng } from './utils/rng.js';
export { randomDecoderParams } from './model/random_init.js';
export { parseSafetensors, serializeSafetensors, readSafetensorsFile, writeSafetensorsFile } from './io/safetensors.js';
export type { RawTensor, SafeDtype, SafetensorsContents, TensorToWrite } from './io/safetensors.js';
export { loadCheckpointTensors } from './io/checkpoint.js';
export { hubCacheDir, resolveModelDir, validateRepoId } from './io/hub.js';
export type { HubOptions, ResolvedModel } from './io/hub.js';
export { loadTokenizer, shippedTokenizerDir } from './tokenizers/load.js';
export type { LoadTokenizerOptions, ShippedTokenizerName } from './tokenizers/load.js';
export { encodeForDecoder, encodeForEncoder } from './tokenizers/batch.js';
export type { BatchEncoding, DecoderEncodeOptions, EncoderEncodeOptions } from './tokenizers/batch.js';
export type { SpecialTokenIds, Tokenizer, TokenizerKind } from './tokenizers/tokenizer.js';
export { HookedEncoder } from './model/encoder/hooked_encoder.js';
export type {
  EncoderBatch,
  EncoderForwardOptions,
  EncoderInput,
  EncoderRunWithCacheOptions,
} from './model/encoder/hooked_encoder.js';
export type { EncoderFromPretrainedOptions } from './model/encoder/load_encoder.js';
export { encoderConfigFromHf } from './model/encoder/encoder_config.js';
export type { EncoderConfig, HfBertConfig, HfDistilBertConfig } from './model/encoder/encoder_config.js';
export { encoderParamsFromHf } from './model/encoder/encoder_weights.js';
export { disposeEncoderParams, encoderStateDict } from './model/encoder/encoder_params.js';
export type { EncoderBlockParams, EncoderParams, MlmHeadParams } from './model/encoder/encoder_params.js';
export { randomEncoderParams } from './model/encoder/random_encoder.js';
export { maskedMeanPool, pseudoLogLikelihood } from './model/encoder/pooling.js';
export { encoderHookSpecs } from './hooks/encoder_hook_names.js';
