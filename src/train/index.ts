/**
 * tfjs-lens/train: training helpers: masked-LM data and training of encoders, the generic training loop and the scheduled Adam optimizer.
 * @packageDocumentation
 * @module tfjs-lens/train
 */
export { maskTokens, packTokenSequences, targetTokenCounts, unigramBaselines } from './mlm_data.js';
export type { MaskedBatch, MaskedPositions, MaskingTokenizer, MaskOptions, UnigramBaselines } from './mlm_data.js';
export { makeTrainableEncoder, mlmAccuracy, mlmLogitsAt, mlmLossAt, mlmMetrics } from './mlm_training.js';
export type { MlmInput, MlmMetrics, TrainableEncoder } from './mlm_training.js';
export { trainLoop } from './trainer.js';
export type { StepMetrics, TrainOptions } from './trainer.js';
export { ScheduledAdam, createAdam, lrAt } from '../ops/optimizer.js';
export type { LrSchedule } from '../ops/optimizer.js';
