/**
 * Hooks a decoder family does not have, as typed refusals for the tools: parallel attention and MLP
 * (GPT-NeoX/Pythia) and attention-only models have no `hook_resid_mid`, rotary models (Llama,
 * Mistral, Qwen2, Pythia) no `hook_pos_embed`. TransformerLens 2.12 fails there with a bare
 * KeyError; the tools here throw a ConfigError naming the missing feature and what to use instead.
 */
import { ConfigError } from '../errors.js';

/**
 * The architecture facts that decide which hooks exist (a decoder `ModelConfig` fits; encoder
 * configs, which lack these fields, have none of these gaps).
 * @category Analysis
 */
export interface FamilyFacts {
  /** No MLP: no resid_mid. */
  readonly attnOnly?: boolean;
  /** Parallel attention and MLP: no resid_mid. */
  readonly parallelAttnMlp?: boolean;
  /** 'rotary': no hook_pos_embed. */
  readonly positionalEmbeddingType?: string;
}

/**
 * Why hook `name` does not exist in a model with these facts, and what to use instead.
 * @param cfg The model's architecture facts.
 * @param name Full hook name, e.g. 'blocks.0.hook_resid_mid'.
 * @returns `[reason, alternative]`, or undefined when the family has the hook (or the tool cannot tell).
 * @throws Never.
 * @example familyHookGap({ parallelAttnMlp: true }, 'blocks.0.hook_resid_mid')?.[0]  // 'this model runs attention and MLP in parallel …'
 * @category Analysis
 */
export function familyHookGap(cfg: FamilyFacts, name: string): [string, string] | undefined {
  if (/(^|\.)hook_resid_mid$/.test(name)) {
    if (cfg.parallelAttnMlp === true) {
      return [
        'this model runs attention and MLP in parallel (GPT-NeoX/Pythia, parallelAttnMlp), both reading resid_pre, so it has no resid_mid',
        'use resid_pre (the input of both attention and the MLP), attn_out or mlp_out',
      ];
    }
    if (cfg.attnOnly === true) return ['an attention-only model has no MLP, so it has no resid_mid', 'use resid_pre, attn_out or resid_post'];
  }
  const rotary = cfg.positionalEmbeddingType === 'rotary';
  if (name === 'hook_pos_embed' && rotary) {
    return [
      'this model uses rotary positions (no learned positional embedding: no hook_pos_embed, no W_pos)',
      'positions act on queries and keys at attn.hook_rot_q / attn.hook_rot_k; the residual stream starts at hook_embed',
    ];
  }
  return undefined;
}

/**
 * Throw a ConfigError when hook `name` does not exist in this model family ({@link familyHookGap}).
 * @param cfg The model's architecture facts.
 * @param name Full hook name.
 * @param fn Calling function, for the message.
 * @param alternative What to do instead, when the caller knows better than the default.
 * @returns Nothing.
 * @throws {@link "tfjs-lens"!ConfigError} `fn: 'name' does not exist: reason; alternative`.
 * @example requireFamilyHook(model.cfg, 'blocks.0.hook_resid_mid', 'getActPatchResidMid');
 * @category Analysis
 */
export function requireFamilyHook(cfg: FamilyFacts, name: string, fn: string, alternative?: string): void {
  const gap = familyHookGap(cfg, name);
  if (gap !== undefined) throw new ConfigError(`${fn}: '${name}' does not exist: ${gap[0]}; ${alternative ?? gap[1]}`);
}
