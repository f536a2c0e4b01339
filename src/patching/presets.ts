/**
 * Ready-made activation patching sweeps (TransformerLens `patching.get_act_patch_*` partials):
 * the table of presets (activation, setter, index axes) and the residual-stream / layer-output
 * presets. Head presets are in `head_presets.ts`, the stacked "every" sweeps in `every.ts`.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { ActivationCache } from '../hooks/activation_cache.js';
import type { TokenInput } from '../model/inputs.js';
import {
  genericActivationPatch,
  type AxisName,
  type PatchableModel,
  type PatchMetric,
  type PatchOptions,
} from './generic_patch.js';
import {
  layerHeadDestSrcPosPatternPatchSetter,
  layerHeadPatternPatchSetter,
  layerHeadPosPatternPatchSetter,
  layerHeadVectorPatchSetter,
  layerPosHeadVectorPatchSetter,
  layerPosPatchSetter,
  type PatchSetter,
} from './setters.js';

/** One preset: which activation, how to patch it, and which axes to sweep. @category Patching */
export interface PatchPreset {
  /** TL short activation name, e.g. 'resid_pre', 'z', 'pattern'. */
  readonly activation: string;
  /** The setter that writes the indexed clean slice. */
  readonly setter: PatchSetter;
  /** Swept axes; the output has this shape. */
  readonly axes: readonly AxisName[];
}

const LP: readonly AxisName[] = ['layer', 'pos'];
const LPH: readonly AxisName[] = ['layer', 'pos', 'head'];
const LH: readonly AxisName[] = ['layer', 'head'];
const vecByPos = (activation: string): PatchPreset => ({ activation, setter: layerPosHeadVectorPatchSetter, axes: LPH });
const vecAllPos = (activation: string): PatchPreset => ({ activation, setter: layerHeadVectorPatchSetter, axes: LH });

/**
 * Name of a patching preset: TL's `get_act_patch_<name>`, run by the matching `getActPatch*` function.
 * Output shapes: resid/attn_out/mlp_out [n_layers, pos]; `*_by_pos` [n_layers, pos, n_heads] except
 * `attn_head_pattern_by_pos` [n_layers, n_heads, dest_pos]; `attn_head_pattern_dest_src_pos`
 * [n_layers, n_heads, dest_pos, src_pos]; `*_all_pos` [n_layers, n_heads].
 * @category Patching
 */
export type PatchPresetName =
  | 'resid_pre'
  | 'resid_mid'
  | 'attn_out'
  | 'mlp_out'
  | 'attn_head_out_by_pos'
  | 'attn_head_q_by_pos'
  | 'attn_head_k_by_pos'
  | 'attn_head_v_by_pos'
  | 'attn_head_pattern_by_pos'
  | 'attn_head_pattern_dest_src_pos'
  | 'attn_head_out_all_pos'
  | 'attn_head_q_all_pos'
  | 'attn_head_k_all_pos'
  | 'attn_head_v_all_pos'
  | 'attn_head_pattern_all_pos';

/**
 * Every preset, keyed by the TL function name without `get_act_patch_`. Output shapes:
 * resid/attn_out/mlp_out [n_layers, pos]; `*_by_pos` [n_layers, pos, n_heads] except
 * `attn_head_pattern_by_pos` [n_layers, n_heads, dest_pos]; `attn_head_pattern_dest_src_pos`
 * [n_layers, n_heads, dest_pos, src_pos]; `*_all_pos` [n_layers, n_heads]. Head outputs are patched
 * at `hook_z` (as TL), not `hook_result`.
 * @example PATCH_PRESETS.attn_head_out_by_pos.axes // ['layer', 'pos', 'head']
 * @category Patching
 */
export const PATCH_PRESETS: Readonly<Record<PatchPresetName, PatchPreset>> = {
  resid_pre: { activation: 'resid_pre', setter: layerPosPatchSetter, axes: LP },
  resid_mid: { activation: 'resid_mid', setter: layerPosPatchSetter, axes: LP },
  attn_out: { activation: 'attn_out', setter: layerPosPatchSetter, axes: LP },
  mlp_out: { activation: 'mlp_out', setter: layerPosPatchSetter, axes: LP },
  attn_head_out_by_pos: vecByPos('z'),
  attn_head_q_by_pos: vecByPos('q'),
  attn_head_k_by_pos: vecByPos('k'),
  attn_head_v_by_pos: vecByPos('v'),
  attn_head_pattern_by_pos: {
    activation: 'pattern',
    setter: layerHeadPosPatternPatchSetter,
    axes: ['layer', 'head_index', 'dest_pos'],
  },
  attn_head_pattern_dest_src_pos: {
    activation: 'pattern',
    setter: layerHeadDestSrcPosPatternPatchSetter,
    axes: ['layer', 'head_index', 'dest_pos', 'src_pos'],
  },
  attn_head_out_all_pos: vecAllPos('z'),
  attn_head_q_all_pos: vecAllPos('q'),
  attn_head_k_all_pos: vecAllPos('k'),
  attn_head_v_all_pos: vecAllPos('v'),
  attn_head_pattern_all_pos: { activation: 'pattern', setter: layerHeadPatternPatchSetter, axes: ['layer', 'head_index'] },
};

/**
 * Names of all presets, in table order.
 * @example attributionPatchMany(model, cleanCache, corrupted, metric, PATCH_PRESET_NAMES);
 * @category Patching
 */
export const PATCH_PRESET_NAMES = Object.keys(PATCH_PRESETS) as PatchPresetName[];

/**
 * Signature shared by the preset sweeps.
 * @category Patching
 */
export type PresetPatchFn = (
  model: PatchableModel,
  corruptedTokens: TokenInput,
  cleanCache: ActivationCache,
  metric: PatchMetric,
  opts?: PatchOptions,
) => tf.Tensor;

/**
 * Run a preset sweep by name.
 * @param preset Preset name, e.g. 'resid_pre' or 'attn_head_out_by_pos'.
 * @param model A hooked transformer.
 * @param corruptedTokens Corrupted token ids [batch, pos].
 * @param cleanCache Clean-run cache holding the preset's activation at every layer.
 * @param metric Logits of one patched run → scalar.
 * @param opts Batch size, progress, attention mask.
 * @returns Patched metric values, shaped as the preset's axes (see {@link PatchPresetName}).
 * @throws As {@link genericActivationPatch}.
 * @example const r = actPatch('mlp_out', model, corrupted, cleanCache, metric); // [n_layers, pos]
 * @category Patching
 */
export function actPatch(
  preset: PatchPresetName,
  model: PatchableModel,
  corruptedTokens: TokenInput,
  cleanCache: ActivationCache,
  metric: PatchMetric,
  opts: PatchOptions = {},
): tf.Tensor {
  const p = PATCH_PRESETS[preset];
  return genericActivationPatch(model, corruptedTokens, cleanCache, metric, p.setter, p.activation, {
    ...opts,
    indexAxisNames: p.axes,
  });
}

/**
 * Patch the residual stream entering each block, by position (TL `get_act_patch_resid_pre`).
 * @param model A hooked transformer.
 * @param corruptedTokens Corrupted token ids [batch, pos].
 * @param cleanCache Clean-run cache with `blocks.L.hook_resid_pre`.
 * @param metric Logits of one patched run → scalar.
 * @param opts Batch size, progress, attention mask.
 * @returns Patched metric [n_layers, pos].
 * @throws As {@link genericActivationPatch}.
 * @example const r = getActPatchResidPre(model, corrupted, cleanCache, metric); // [n_layers, pos]
 * @category Patching
 */
export const getActPatchResidPre: PresetPatchFn = (m, t, c, f, o) => actPatch('resid_pre', m, t, c, f, o);

/**
 * Patch the residual stream between attention and MLP, by position (TL `get_act_patch_resid_mid`).
 * @param model A hooked transformer.
 * @param corruptedTokens Corrupted token ids [batch, pos].
 * @param cleanCache Clean-run cache with `blocks.L.hook_resid_mid`.
 * @param metric Logits of one patched run → scalar.
 * @param opts Batch size, progress, attention mask.
 * @returns Patched metric [n_layers, pos].
 * @throws As {@link genericActivationPatch}.
 * @example const r = getActPatchResidMid(model, corrupted, cleanCache, metric); // [n_layers, pos]
 * @category Patching
 */
export const getActPatchResidMid: PresetPatchFn = (m, t, c, f, o) => actPatch('resid_mid', m, t, c, f, o);

/**
 * Patch each attention layer's output, by position (TL `get_act_patch_attn_out`).
 * @param model A hooked transformer.
 * @param corruptedTokens Corrupted token ids [batch, pos].
 * @param cleanCache Clean-run cache with `blocks.L.hook_attn_out`.
 * @param metric Logits of one patched run → scalar.
 * @param opts Batch size, progress, attention mask.
 * @returns Patched metric [n_layers, pos].
 * @throws As {@link genericActivationPatch}.
 * @example const r = getActPatchAttnOut(model, corrupted, cleanCache, metric); // [n_layers, pos]
 * @category Patching
 */
export const getActPatchAttnOut: PresetPatchFn = (m, t, c, f, o) => actPatch('attn_out', m, t, c, f, o);

/**
 * Patch each MLP layer's output, by position (TL `get_act_patch_mlp_out`).
 * @param model A hooked transformer.
 * @param corruptedTokens Corrupted token ids [batch, pos].
 * @param cleanCache Clean-run cache with `blocks.L.hook_mlp_out`.
 * @param metric Logits of one patched run → scalar.
 * @param opts Batch size, progress, attention mask.
 * @returns Patched metric [n_layers, pos].
 * @throws As {@link genericActivationPatch}.
 * @example const r = getActPatchMlpOut(model, corrupted, cleanCache, metric); // [n_layers, pos]
 * @category Patching
 */
export const getActPatchMlpOut: PresetPatchFn = (m, t, c, f, o) => actPatch('mlp_out', m, t, c, f, o);
