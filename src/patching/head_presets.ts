/**
 * Per-head activation patching presets (TransformerLens `patching.get_act_patch_attn_head_*`):
 * head outputs (`hook_z`), queries, keys, values and attention patterns, by position or across
 * all positions. Index conventions follow TL exactly (see {@link PatchPresetName}).
 */
import { actPatch, type PresetPatchFn } from './presets.js';

/**
 * Patch the output (`hook_z`) of each head at each position (TL `get_act_patch_attn_head_out_by_pos`).
 * @param model A hooked transformer.
 * @param corruptedTokens Corrupted token ids [batch, pos].
 * @param cleanCache Clean-run cache with `blocks.L.attn.hook_z`.
 * @param metric Logits of one patched run → scalar.
 * @param opts Batch size, progress, attention mask.
 * @returns Patched metric [n_layers, pos, n_heads].
 * @throws As `genericActivationPatch`: ConfigError, ShapeError, HookNameError.
 * @example const r = getActPatchAttnHeadOutByPos(model, corrupted, cleanCache, metric); // [n_layers, pos, n_heads]
 * @category Patching
 */
export const getActPatchAttnHeadOutByPos: PresetPatchFn = (m, t, c, f, o) => actPatch('attn_head_out_by_pos', m, t, c, f, o);

/**
 * Patch the queries of each head at each position (TL `get_act_patch_attn_head_q_by_pos`).
 * @param model A hooked transformer.
 * @param corruptedTokens Corrupted token ids [batch, pos].
 * @param cleanCache Clean-run cache with `blocks.L.attn.hook_q`.
 * @param metric Logits of one patched run → scalar.
 * @param opts Batch size, progress, attention mask.
 * @returns Patched metric [n_layers, pos, n_heads].
 * @throws As `genericActivationPatch`: ConfigError, ShapeError, HookNameError.
 * @example const r = getActPatchAttnHeadQByPos(model, corrupted, cleanCache, metric); // [n_layers, pos, n_heads]
 * @category Patching
 */
export const getActPatchAttnHeadQByPos: PresetPatchFn = (m, t, c, f, o) => actPatch('attn_head_q_by_pos', m, t, c, f, o);

/**
 * Patch the keys of each head at each position (TL `get_act_patch_attn_head_k_by_pos`).
 * @param model A hooked transformer.
 * @param corruptedTokens Corrupted token ids [batch, pos].
 * @param cleanCache Clean-run cache with `blocks.L.attn.hook_k`.
 * @param metric Logits of one patched run → scalar.
 * @param opts Batch size, progress, attention mask.
 * @returns Patched metric [n_layers, pos, n_heads].
 * @throws As `genericActivationPatch`: ConfigError, ShapeError, HookNameError.
 * @example const r = getActPatchAttnHeadKByPos(model, corrupted, cleanCache, metric); // [n_layers, pos, n_heads]
 * @category Patching
 */
export const getActPatchAttnHeadKByPos: PresetPatchFn = (m, t, c, f, o) => actPatch('attn_head_k_by_pos', m, t, c, f, o);

/**
 * Patch the values of each head at each position (TL `get_act_patch_attn_head_v_by_pos`).
 * @param model A hooked transformer.
 * @param corruptedTokens Corrupted token ids [batch, pos].
 * @param cleanCache Clean-run cache with `blocks.L.attn.hook_v`.
 * @param metric Logits of one patched run → scalar.
 * @param opts Batch size, progress, attention mask.
 * @returns Patched metric [n_layers, pos, n_heads].
 * @throws As `genericActivationPatch`: ConfigError, ShapeError, HookNameError.
 * @example const r = getActPatchAttnHeadVByPos(model, corrupted, cleanCache, metric); // [n_layers, pos, n_heads]
 * @category Patching
 */
export const getActPatchAttnHeadVByPos: PresetPatchFn = (m, t, c, f, o) => actPatch('attn_head_v_by_pos', m, t, c, f, o);

/**
 * Patch each head's attention pattern row of one destination position (note the axis order: head before position) (TL `get_act_patch_attn_head_pattern_by_pos`).
 * @param model A hooked transformer.
 * @param corruptedTokens Corrupted token ids [batch, pos].
 * @param cleanCache Clean-run cache with `blocks.L.attn.hook_pattern`.
 * @param metric Logits of one patched run → scalar.
 * @param opts Batch size, progress, attention mask.
 * @returns Patched metric [n_layers, n_heads, dest_pos].
 * @throws As `genericActivationPatch`: ConfigError, ShapeError, HookNameError.
 * @example const r = getActPatchAttnHeadPatternByPos(model, corrupted, cleanCache, metric); // [n_layers, n_heads, dest_pos]
 * @category Patching
 */
export const getActPatchAttnHeadPatternByPos: PresetPatchFn = (m, t, c, f, o) => actPatch('attn_head_pattern_by_pos', m, t, c, f, o);

/**
 * Patch single attention-pattern entries (destination, source) of each head (TL `get_act_patch_attn_head_pattern_dest_src_pos`).
 * @param model A hooked transformer.
 * @param corruptedTokens Corrupted token ids [batch, pos].
 * @param cleanCache Clean-run cache with `blocks.L.attn.hook_pattern`.
 * @param metric Logits of one patched run → scalar.
 * @param opts Batch size, progress, attention mask.
 * @returns Patched metric [n_layers, n_heads, dest_pos, src_pos].
 * @throws As `genericActivationPatch`: ConfigError, ShapeError, HookNameError.
 * @example const r = getActPatchAttnHeadPatternDestSrcPos(model, corrupted, cleanCache, metric); // [n_layers, n_heads, dest_pos, src_pos]
 * @category Patching
 */
export const getActPatchAttnHeadPatternDestSrcPos: PresetPatchFn = (m, t, c, f, o) => actPatch('attn_head_pattern_dest_src_pos', m, t, c, f, o);

/**
 * Patch the output (`hook_z`) of each head at every position at once (TL `get_act_patch_attn_head_out_all_pos`).
 * @param model A hooked transformer.
 * @param corruptedTokens Corrupted token ids [batch, pos].
 * @param cleanCache Clean-run cache with `blocks.L.attn.hook_z`.
 * @param metric Logits of one patched run → scalar.
 * @param opts Batch size, progress, attention mask.
 * @returns Patched metric [n_layers, n_heads].
 * @throws As `genericActivationPatch`: ConfigError, ShapeError, HookNameError.
 * @example const r = getActPatchAttnHeadOutAllPos(model, corrupted, cleanCache, metric); // [n_layers, n_heads]
 * @category Patching
 */
export const getActPatchAttnHeadOutAllPos: PresetPatchFn = (m, t, c, f, o) => actPatch('attn_head_out_all_pos', m, t, c, f, o);

/**
 * Patch the queries of each head at every position at once (TL `get_act_patch_attn_head_q_all_pos`).
 * @param model A hooked transformer.
 * @param corruptedTokens Corrupted token ids [batch, pos].
 * @param cleanCache Clean-run cache with `blocks.L.attn.hook_q`.
 * @param metric Logits of one patched run → scalar.
 * @param opts Batch size, progress, attention mask.
 * @returns Patched metric [n_layers, n_heads].
 * @throws As `genericActivationPatch`: ConfigError, ShapeError, HookNameError.
 * @example const r = getActPatchAttnHeadQAllPos(model, corrupted, cleanCache, metric); // [n_layers, n_heads]
 * @category Patching
 */
export const getActPatchAttnHeadQAllPos: PresetPatchFn = (m, t, c, f, o) => actPatch('attn_head_q_all_pos', m, t, c, f, o);

/**
 * Patch the keys of each head at every position at once (TL `get_act_patch_attn_head_k_all_pos`).
 * @param model A hooked transformer.
 * @param corruptedTokens Corrupted token ids [batch, pos].
 * @param cleanCache Clean-run cache with `blocks.L.attn.hook_k`.
 * @param metric Logits of one patched run → scalar.
 * @param opts Batch size, progress, attention mask.
 * @returns Patched metric [n_layers, n_heads].
 * @throws As `genericActivationPatch`: ConfigError, ShapeError, HookNameError.
 * @example const r = getActPatchAttnHeadKAllPos(model, corrupted, cleanCache, metric); // [n_layers, n_heads]
 * @category Patching
 */
export const getActPatchAttnHeadKAllPos: PresetPatchFn = (m, t, c, f, o) => actPatch('attn_head_k_all_pos', m, t, c, f, o);

/**
 * Patch the values of each head at every position at once (TL `get_act_patch_attn_head_v_all_pos`).
 * @param model A hooked transformer.
 * @param corruptedTokens Corrupted token ids [batch, pos].
 * @param cleanCache Clean-run cache with `blocks.L.attn.hook_v`.
 * @param metric Logits of one patched run → scalar.
 * @param opts Batch size, progress, attention mask.
 * @returns Patched metric [n_layers, n_heads].
 * @throws As `genericActivationPatch`: ConfigError, ShapeError, HookNameError.
 * @example const r = getActPatchAttnHeadVAllPos(model, corrupted, cleanCache, metric); // [n_layers, n_heads]
 * @category Patching
 */
export const getActPatchAttnHeadVAllPos: PresetPatchFn = (m, t, c, f, o) => actPatch('attn_head_v_all_pos', m, t, c, f, o);

/**
 * Patch each head's whole attention pattern (TL `get_act_patch_attn_head_pattern_all_pos`).
 * @param model A hooked transformer.
 * @param corruptedTokens Corrupted token ids [batch, pos].
 * @param cleanCache Clean-run cache with `blocks.L.attn.hook_pattern`.
 * @param metric Logits of one patched run → scalar.
 * @param opts Batch size, progress, attention mask.
 * @returns Patched metric [n_layers, n_heads].
 * @throws As `genericActivationPatch`: ConfigError, ShapeError, HookNameError.
 * @example const r = getActPatchAttnHeadPatternAllPos(model, corrupted, cleanCache, metric); // [n_layers, n_heads]
 * @category Patching
 */
export const getActPatchAttnHeadPatternAllPos: PresetPatchFn = (m, t, c, f, o) => actPatch('attn_head_pattern_all_pos', m, t, c, f, o);
