/**
 * tfjs-lens/train: training helpers: masked-LM data and training of encoders, fine-tuning of sequence classifiers (full, head, LoRA), the generic training loop (gradient accumulation, early stopping), the scheduled Adam and AdamW optimizers, seeded epoch batches, and classification losses (weighted cross-entropy, focal).
 * @packageDocumentation
 * @module tfjs-lens/train
 */
export { maskTokens, packTokenSequences, targetTokenCounts, unigramBaselines } from './mlm_data.js';
export type { MaskedBatch, MaskedPositions, MaskingTokenizer, MaskOptions, UnigramBaselines } from './mlm_data.js';
export { makeTrainableEncoder, mlmAccuracy, mlmLogitsAt, mlmLossAt, mlmMetrics } from './mlm_training.js';
export type { MlmInput, MlmMetrics, TrainableEncoder } from './mlm_training.js';
export { trainLoop, trainLoopDetailed } from './trainer.js';
export type { EarlyStopping, Evaluation, StepMetrics, TrainOptions, TrainResult } from './trainer.js';
export { ScheduledAdamW, createAdamW, decayExceptNames, decayMatricesOnly } from './adamw.js';
export type { AdamWOptions, DecayFilter } from './adamw.js';
export { epochBatches } from './batches.js';
export type { EpochBatchOptions } from './batches.js';
export { balancedClassWeights, crossEntropyLoss, focalLoss, sigmoidFocalLoss } from './classifier_losses.js';
export type { CrossEntropyOptions, FocalLossOptions, LossLabels, SigmoidFocalLossOptions } from './classifier_losses.js';
export { ScheduledAdam, createAdam, lrAt } from '../ops/optimizer.js';
export type { LrSchedule } from '../ops/optimizer.js';
export { finetuneClassifier } from './finetune.js';
export type { FinetuneData, FinetuneEarlyStopping, FinetuneOptions, FinetuneProgress, FinetuneResult, ValidationMetrics } from './finetune.js';
export type { FinetuneLoraOptions } from './finetune_params.js';
