/**
 * tfjs-lens/analysis: cache analysis (TL `ActivationCache` methods as functions): accumulated and decomposed residual streams, per-head and per-neuron contributions, `apply_ln_to_stack`, logit attributions, the logit lens and direct logit attribution.
 * @packageDocumentation
 * @module tfjs-lens/analysis
 */
export { applyLnToStack } from './apply_ln.js';
export type { ApplyLnOptions } from './apply_ln.js';
export { accumulatedResid, decomposeResid, stackActivation } from './residual.js';
export type { AccumulatedResidOptions, DecomposeResidOptions } from './residual.js';
export { accumulatedBias, getFullResidDecomposition, stackHeadResults, stackNeuronResults } from './components.js';
export type { FullDecompositionOptions, StackHeadResultsOptions, StackNeuronResultsOptions } from './components.js';
export { logitAttrs, residualStackToLogitDiff, tokensToResidualDirections } from './logit_attrs.js';
export { computeHeadResults, getNeuronResults } from './results.js';
export type { LogitAttrsOptions } from './logit_attrs.js';
export { directLogitAttribution, logitLens } from './lens.js';
export type { DlaOptions, DlaResult, LogitLensOptions, LogitLensResult } from './lens.js';
export type { AnalysisModel, LabelledStack, PosSlice, TokenSpec } from './types.js';
