/**
 * Stacked patching sweeps (TransformerLens `get_act_patch_block_every`,
 * `get_act_patch_attn_head_all_pos_every`, `get_act_patch_attn_head_by_pos_every`): several presets
 * run one after another and stacked on a new leading axis.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError } from '../errors.js';
import { kvHeads } from '../model/config.js';
import type { ActivationCache } from '../hooks/activation_cache.js';
import type { TokenInput } from '../model/inputs.js';
import type { PatchableModel, PatchMetric, PatchOptions } from './generic_patch.js';
import { actPatch, type PatchPresetName } from './presets.js';

/**
 * The per-head "every" sweeps stack z, q, k, v and pattern over heads; with grouped-query attention
 * k and v have fewer heads, so the stack has no common shape (TL's sweep fails there too).
 */
function requireMultiHead(model: PatchableModel, fn: string): void {
  const kv = kvHeads(model.cfg);
  if (kv !== model.cfg.nHeads) {
    throw new ConfigError(
      `${fn}: this model uses grouped-query attention (${model.cfg.nHeads} query heads, ${kv} key/value heads), so the z, q, k, v and ` +
        `pattern sweeps have different head counts and cannot be stacked; call getActPatchAttnHeadOutAllPos, …QAllPos, …KAllPos ` +
        `(over the ${kv} key/value heads), …VAllPos and …PatternAllPos (or the ByPos ones) separately`,
    );
  }
}

/** Run presets in order and stack them; `rearrange` may transpose one result first (freed after). */
function stackPresets(
  names: readonly PatchPresetName[],
  run: (name: PatchPresetName) => tf.Tensor,
  rearrange: (name: PatchPresetName, t: tf.Tensor) => tf.Tensor = (_n, t) => t,
): tf.Tensor {
  const parts: tf.Tensor[] = [];
  try {
    for (const n of names) {
      const raw = run(n);
      const t = rearrange(n, raw);
      if (t !== raw) raw.dispose();
      parts.push(t);
    }
    return tf.stack(parts, 0);
  } finally {
    tf.dispose(parts);
  }
}

/**
 * Patch resid_pre, attn_out and mlp_out by position, stacked (TL `get_act_patch_block_every`).
 * @param model A hooked transformer.
 * @param corruptedTokens Corrupted token ids [batch, pos].
 * @param cleanCache Clean-run cache with resid_pre, attn_out and mlp_out at every layer.
 * @param metric Logits of one patched run → scalar.
 * @param opts Batch size, progress, attention mask.
 * @returns Patched metric [3, n_layers, pos] (resid_pre, attn_out, mlp_out).
 * @throws As {@link genericActivationPatch}.
 * @example const r = getActPatchBlockEvery(model, corrupted, cleanCache, metric); // [3, n_layers, pos]
 * @category Patching
 */
export function getActPatchBlockEvery(
  model: PatchableModel,
  corruptedTokens: TokenInput,
  cleanCache: ActivationCache,
  metric: PatchMetric,
  opts: PatchOptions = {},
): tf.Tensor {
  return stackPresets(['resid_pre', 'attn_out', 'mlp_out'], (n) => actPatch(n, model, corruptedTokens, cleanCache, metric, opts));
}

/**
 * Patch every head across all positions for z, q, k, v and pattern, stacked
 * (TL `get_act_patch_attn_head_all_pos_every`).
 * @param model A hooked transformer.
 * @param corruptedTokens Corrupted token ids [batch, pos].
 * @param cleanCache Clean-run cache with z, q, k, v and pattern at every layer.
 * @param metric Logits of one patched run → scalar.
 * @param opts Batch size, progress, attention mask.
 * @returns Patched metric [5, n_layers, n_heads] (z, q, k, v, pattern).
 * @throws As {@link genericActivationPatch}; {@link "tfjs-lens"!ConfigError} for a grouped-query-attention model (k and v have fewer heads).
 * @example const r = getActPatchAttnHeadAllPosEvery(model, corrupted, cleanCache, metric); // [5, n_layers, n_heads]
 * @category Patching
 */
export function getActPatchAttnHeadAllPosEvery(
  model: PatchableModel,
  corruptedTokens: TokenInput,
  cleanCache: ActivationCache,
  metric: PatchMetric,
  opts: PatchOptions = {},
): tf.Tensor {
  requireMultiHead(model, 'getActPatchAttnHeadAllPosEvery');
  const names: PatchPresetName[] = [
    'attn_head_out_all_pos',
    'attn_head_q_all_pos',
    'attn_head_k_all_pos',
    'attn_head_v_all_pos',
    'attn_head_pattern_all_pos',
  ];
  return stackPresets(names, (n) => actPatch(n, model, corruptedTokens, cleanCache, metric, opts));
}

/**
 * Patch every head at every position for z, q, k, v and pattern, stacked; the pattern result
 * [n_layers, n_heads, dest_pos] is rearranged to [n_layers, pos, n_heads] to match
 * (TL `get_act_patch_attn_head_by_pos_every`).
 * @param model A hooked transformer.
 * @param corruptedTokens Corrupted token ids [batch, pos].
 * @param cleanCache Clean-run cache with z, q, k, v and pattern at every layer.
 * @param metric Logits of one patched run → scalar.
 * @param opts Batch size, progress, attention mask.
 * @returns Patched metric [5, n_layers, pos, n_heads] (z, q, k, v, pattern).
 * @throws As {@link genericActivationPatch}; {@link "tfjs-lens"!ConfigError} for a grouped-query-attention model (k and v have fewer heads).
 * @example const r = getActPatchAttnHeadByPosEvery(model, corrupted, cleanCache, metric); // [5, n_layers, pos, n_heads]
 * @category Patching
 */
export function getActPatchAttnHeadByPosEvery(
  model: PatchableModel,
  corruptedTokens: TokenInput,
  cleanCache: ActivationCache,
  metric: PatchMetric,
  opts: PatchOptions = {},
): tf.Tensor {
  requireMultiHead(model, 'getActPatchAttnHeadByPosEvery');
  const names: PatchPresetName[] = [
    'attn_head_out_by_pos',
    'attn_head_q_by_pos',
    'attn_head_k_by_pos',
    'attn_head_v_by_pos',
    'attn_head_pattern_by_pos',
  ];
  return stackPresets(
    names,
    (n) => actPatch(n, model, corruptedTokens, cleanCache, metric, opts),
    (n, t) => (n === 'attn_head_pattern_by_pos' ? tf.transpose(t, [0, 2, 1]) : t), // [n_layers, pos, n_heads]
  );
}
