/**
 * The part of the public API the Node entry (src/index.ts) and the browser entry
 * (src/browser/index.ts) share: errors, hooks and the activation cache, the hooked models and their
 * configs, parameters, LoRA adapters and classifier heads. Each entry adds its own loaders and backend.
 */
export {
  BackendError, ConfigError, DatasetError, DisposedError, HookError, HookNameError, HubError, InterpError,
  MemoryLimitError, NotFoundError, SafetensorsError, ShapeError, TokenizerError, UsageError, WeightLoadError,
} from './errors.js';
// Hooks: hook points, the per-family hook tables and name types, the cache.
export { HookPoint } from './hooks/hook_point.js';
export type { HookContext, HookDir, HookDirection, HookEntry, HookFn, HookPointAddOptions, HookPointRemoveOptions } from './hooks/hook_point.js';
export type { BwdMetric } from './hooks/bwd_hooks.js';
export { HookedRoot } from './hooks/hook_registry.js';
export type { AddHookOptions, BwdHooks, FwdHooks, HookTarget, RemoveHooksOptions, ScopedHooks } from './hooks/hook_registry.js';
export { actName } from './hooks/act_name.js';
export { decoderHookSpecs } from './hooks/decoder_hooks.js';
export type { DecoderBlockHook, DecoderHookName, HookTableConfig } from './hooks/decoder_hooks.js';
export { encoderHookSpecs } from './hooks/encoder_hooks.js';
export type { EncoderBlockHook, EncoderHookName } from './hooks/encoder_hooks.js';
export { FLAG_NAMES } from './hooks/hook_spec.js';
export type { ClassifierHookName, FlagName, HookFlags, HookSpec, HookStage } from './hooks/hook_spec.js';
export type { NamesFilter } from './hooks/caching.js';
export { ActivationCache } from './hooks/activation_cache.js';
export { Slice } from './utils/slice.js';
export type { SliceInput, SliceMode, SliceRange } from './utils/slice.js';
// Models.
export { HookedModel } from './model/hooked_model.js';
export type { BackwardOption, BaseRunOptions, CacheOption, HooksOption, ModelDims, ResolvedRows } from './model/hooked_model.js';
export { HookedTransformer } from './model/hooked_transformer.js';
export { HookedDecoderBase } from './model/decoder_base.js';
export type { EmbedOutput, FromConfigOptions, InputToEmbedOptions, LossFnOptions, SetTokenizerOptions } from './model/hooked_transformer.js';
export type {
  BothOptions,
  ForwardOptions,
  ForwardOutput,
  ForwardReturnType,
  LogitsAndLoss,
  LogitsOptions,
  LossOptions,
  LossPerTokenOptions,
  NoneOptions,
  RunWithCacheOptions,
  RunWithHooksOptions,
} from './model/hooked_transformer.js';
export type { FromPretrainedOptions } from './model/load_decoder.js';
export type { ActFn, ModelConfig, ModelConfigInput, NormalizationType, PositionalEmbeddingType, RopeScaling } from './model/config.js';
export { KvCache } from './model/forward.js';
export type { AttnParams, BlockParams, DecoderParams, LayerNormParams, MlpParams, NormParams } from './model/params.js';
export type { ProcessingOptions } from './model/weight_processing.js';
export { WeightsView } from './model/weights_view.js';
export type { WeightName, WeightTensors } from './model/weights_view.js';
export { FactoredMatrix } from './ops/factored_matrix.js';
export type { FactoredIndex } from './ops/factored_matrix_index.js';
export type { ComplexTensors, FactoredSvd } from './ops/factored_matrix_util.js';
export { attnCircuitFromBlocks, ovCircuit, qkCircuit } from './model/attn_circuits.js';
export type { AttnCircuitName, AttnHeadWeights } from './model/attn_circuits.js';
export type { GenerateOptions, GenerateOutput } from './model/generate.js';
export type { SamplingOptions } from './model/sampling.js';
export type { ModelInput, TensorLike, TokenInput, TokenizeOptions } from './model/inputs.js';
export { HookedEncoder } from './model/encoder/hooked_encoder.js';
export type {
  EncoderBatch,
  EncoderForwardOptions,
  EncoderInput,
  EncoderNoneOptions,
  EncoderRunWithCacheOptions,
  EncoderRunWithHooksOptions,
  EncoderOutput,
  EncoderTensorOptions,
  EncoderTensorOrNoneOptions,
} from './model/encoder/hooked_encoder.js';
export type { EncoderFromPretrainedOptions } from './model/encoder/load_encoder.js';
export type { EncoderConfig } from './model/encoder/encoder_config.js';
export type { EncoderBlockParams, EncoderParams, MlmHeadParams } from './model/encoder/encoder_params.js';
export { maskedMeanPool, pseudoLogLikelihood } from './model/encoder/pooling.js';
// Sequence classification (*ForSequenceClassification heads on either model class).
export { classificationLoss } from './model/classifier/loss.js';
export type { ClassifierLogitsAndLoss, ClassLabels } from './model/classifier/loss.js';
export { lastTokenPositions } from './model/classifier/head.js';
export type { ClassifierFamily, ClassifierHeadParams, DenseParams, SequenceClassifier } from './model/classifier/head_params.js';
export { declaresClassifier, labelConfigFromHf } from './model/classifier/labels.js';
export { randomClassifierHead } from './model/classifier/head_params.js';
export { AdapterHost } from './model/lora/adapter_host.js';
export type { RunWeights } from './model/lora/adapter_host.js';
export { LoraAdapter } from './model/lora/lora_adapter.js';
export type { LoraFactors, SavedLinear } from './model/lora/lora_adapter.js';
export type { ModelWeights } from './model/lora/linear_slots.js';
export { makePeftLoraConfig, loraScaling } from './model/lora/peft_config.js';
export type { LoraOptions, PeftLoraConfig } from './model/lora/peft_config.js';
export type { HfLabelFields, LabelConfig, ProblemType } from './model/classifier/labels.js';
