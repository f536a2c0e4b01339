/**
 * tfjs-lens/model: model internals: configs and their Hugging Face mappings, parameter maps, weight processing, random initialisation, the LM loss and generation.
 * @packageDocumentation
 * @module tfjs-lens/model
 */
export { validateConfig, kvHeads, isRotary, isRms, dVocabOut } from './config.js';
export type { PositionalEmbeddingType, RopeScaling } from './config.js';
export { decoderConfigFromHf, gpt2ConfigFromHf, llamaConfigFromHf, neoxConfigFromHf, DECODER_MODEL_TYPES } from './hf_config.js';
export type { HfDecoderConfig, HfGpt2Config, HfLlamaConfig, HfNeoxConfig, HfRopeScaling } from './hf_config.js';
export type { KvSlot, PastKv } from './components/attention.js';
export { gpt2ParamsFromHf } from './weights/gpt2.js';
export { llamaParamsFromHf } from './weights/llama.js';
export { neoxParamsFromHf } from './weights/neox.js';
export { disposeParams } from './params.js';
export { processWeights, DEFAULT_PROCESSING, NO_PROCESSING } from './weight_processing.js';
export { lmCrossEntropy } from './loss.js';
export { generate } from './generate.js';
export type { GenerativeModel } from './generate.js';
export { randomDecoderParams } from './random_init.js';
export { encoderConfigFromHf } from './encoder/encoder_config.js';
export { encoderPositionIds, encoderMaxLength } from './encoder/position_ids.js';
export type { HfBertConfig, HfDistilBertConfig } from './encoder/encoder_config.js';
export { encoderParamsFromHf } from './encoder/encoder_weights.js';
export { disposeEncoderParams, encoderStateDict } from './encoder/encoder_params.js';
export { randomEncoderParams } from './encoder/random_encoder.js';
export { takeClassifierParams, classifierTensorsToHf, disposeClassifierParams, foldNormIntoClassifier, classifierModuleNames } from './classifier/head_params.js';
export { encoderEditor, decoderEditor } from './lora/linear_slots.js';
export type { LinearSlot, WeightEditor } from './lora/linear_slots.js';
export { applyAdapter } from './lora/lora_adapter.js';
export type { AdapterTensors } from './lora/lora_adapter.js';
export { readPeftAdapter, writePeftAdapter } from './lora/peft_io.js';
export { checkPeftLoraConfig, isTargetModule, isModuleToSave } from './lora/peft_config.js';
export type { WeightAccess } from './lora/adapter_host.js';
export { saveEncoderHf, saveDecoderHf } from './classifier/save_hf.js';
export { seededRng } from '../utils/rng.js';
export type { Rng } from '../utils/rng.js';
