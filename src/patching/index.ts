/**
 * tfjs-lens/patching: activation patching (TL `patching`): `genericActivationPatch`, the per-shape setters, every TL `get_act_patch_*` preset as a function, metrics, gradients at hooks and attribution patching.
 * @packageDocumentation
 * @module tfjs-lens/patching
 */
export {
  axisPatchSetter,
  layerHeadDestSrcPosPatternPatchSetter,
  layerHeadPatternPatchSetter,
  layerHeadPosPatternPatchSetter,
  layerHeadVectorPatchSetter,
  layerPosHeadVectorPatchSetter,
  layerPosPatchSetter,
} from './setters.js';
export type { PatchSetter } from './setters.js';
export { genericActivationPatch, metricValue } from './generic_patch.js';
export type {
  AxisIndex,
  AxisName,
  GenericPatchOptions,
  PatchableModel,
  PatchMetric,
  PatchOptions,
  RowIndex,
} from './generic_patch.js';
export type { ProgressOptions } from './progress.js';
export {
  getActPatchAttnOut,
  getActPatchMlpOut,
  getActPatchResidMid,
  getActPatchResidPre,
  PATCH_PRESET_NAMES,
} from './presets.js';
export type { PatchPresetName, PresetPatchFn } from './presets.js';
export {
  getActPatchAttnHeadKAllPos,
  getActPatchAttnHeadKByPos,
  getActPatchAttnHeadOutAllPos,
  getActPatchAttnHeadOutByPos,
  getActPatchAttnHeadPatternAllPos,
  getActPatchAttnHeadPatternByPos,
  getActPatchAttnHeadPatternDestSrcPos,
  getActPatchAttnHeadQAllPos,
  getActPatchAttnHeadQByPos,
  getActPatchAttnHeadVAllPos,
  getActPatchAttnHeadVByPos,
} from './head_presets.js';
export { getActPatchAttnHeadAllPosEvery, getActPatchAttnHeadByPosEvery, getActPatchBlockEvery } from './every.js';
export { logitDiffMetric, normalizePatchResult, pearsonCorrelation } from './metrics.js';
export type { LogitDiffOptions } from './metrics.js';
export { gradientsAtHooks } from './gradients.js';
export type { DiffMetric, GradientOptions, GradientsResult, GradModel, HookSelection } from './gradients.js';
export { attributionHookNames, attributionPatch, attributionPatchMany } from './attribution.js';
export type { CorruptedGrads } from './attribution.js';
