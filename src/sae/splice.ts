/**
 * Splicing SAEs into a model's forward pass with hooks (SAELens `HookedSAETransformer`:
 * `run_with_saes`, `run_with_cache_with_saes`): the activation at the SAE's hook is replaced by the
 * reconstruction, optionally plus the exact error term (so only latent edits change the run), and
 * the latents can be recorded as `<hook>.hook_sae_acts_post`.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError } from '../errors.js';
import type { ActivationCache } from '../hooks/activation_cache.js';
import type { HookFn } from '../hooks/hook_point.js';
import type { FwdHooks } from '../hooks/hook_registry.js';
import type { BothOptions, ForwardOutput, HookedTransformer, LogitsAndLoss, LogitsOptions, LossOptions, LossPerTokenOptions, NoneOptions, RunWithCacheOptions, RunWithHooksOptions } from '../model/hooked_transformer.js';
import type { ModelInput } from '../model/inputs.js';
import type { SparseAutoencoder } from './sae.js';

/** One SAE to splice in. @category SAE */
export interface SaeSplice {
  /** The SAE. */
  readonly sae: SparseAutoencoder;
  /** Hook to replace (default: the SAE's `metadata.hook_name`). */
  readonly hookName?: string;
  /** Add x − x̂ so the output equals the clean activation unless latents are edited (default false). */
  readonly useErrorTerm?: boolean;
  /** Edit the latents [n, d_sae] before decoding. */
  readonly editFeatures?: (acts: tf.Tensor2D) => tf.Tensor2D | void;
}

/**
 * The hook an SAE attaches to.
 * @param s The splice.
 * @returns The hook name.
 * @throws {@link "tfjs-lens"!ConfigError} when neither `hookName` nor `metadata.hook_name` is set.
 * @example spliceHookName({ sae });   // 'blocks.1.hook_resid_pre'
 * @category SAE
 */
export function spliceHookName(s: SaeSplice): string {
  const name = s.hookName ?? s.sae.cfg.metadata.hook_name;
  if (typeof name !== 'string' || name === '') {
    throw new ConfigError('spliceHookName: the SAE has no metadata.hook_name; pass hookName explicitly');
  }
  return name;
}

/**
 * A forward hook that replaces the activation by the SAE's output.
 * @param s The splice.
 * @param record Called with the latents [..., d_sae] (kept: the receiver owns them).
 * @returns The hook function.
 * @example model.runWithHooks(tokens, { fwdHooks: [['blocks.1.hook_resid_pre', saeReplacementHook({ sae })]] });
 * @throws Never.
 * @category SAE
 */
export function saeReplacementHook(s: SaeSplice, record?: (acts: tf.Tensor) => void): HookFn {
  return (act: tf.Tensor) => {
    const lead = act.shape.slice(0, s.sae.cfg.reshapeActivations === 'hook_z' || act.rank >= 4 ? -2 : -1);
    return s.sae.forward(act, {
      useErrorTerm: s.useErrorTerm === true,
      ...(s.editFeatures !== undefined ? { editFeatures: s.editFeatures } : {}),
      ...(record !== undefined ? { recordFeatures: (f: tf.Tensor2D) => record(tf.keep(tf.reshape(f, [...lead, s.sae.cfg.dSae]))) } : {}), // [batch, pos, d_sae]
    });
  };
}

/**
 * Hooks for several splices; latents are stored in `featureActs` under `<hook>.hook_sae_acts_post`.
 * @param splices SAEs to splice.
 * @param featureActs Optional map to fill (the caller disposes its tensors).
 * @returns `[hookName, fn]` pairs.
 * @throws {@link "tfjs-lens"!ConfigError} when a splice has no hook name.
 * @example model.withHooks(saeFwdHooks([{ sae }]), () => model.loss(tokens));
 * @category SAE
 */
export function saeFwdHooks(splices: readonly SaeSplice[], featureActs?: Map<string, tf.Tensor>): FwdHooks {
  return splices.map((s) => {
    const name = spliceHookName(s);
    const key = `${name}.hook_sae_acts_post`;
    const record = featureActs === undefined ? undefined : (a: tf.Tensor): void => {
      featureActs.get(key)?.dispose();
      featureActs.set(key, a);
    };
    return [name, saeReplacementHook(s, record)] as const;
  });
}

/**
 * Run the model with SAEs spliced in (SAELens `run_with_saes`); hooks are removed afterwards.
 * @param model A HookedTransformer.
 * @param input Text(s) or token ids.
 * @param splices SAEs, hooks, error term, latent edits.
 * @param opts Forward options and extra `fwdHooks` (run after the SAE hooks at the same point).
 * @returns As `model.forward`.
 * @throws {@link "tfjs-lens"!HookNameError} for a hook the model lacks.
 * @example const loss = runWithSaes(model, tokens, [{ sae }], { returnType: 'loss' }); // tf.Scalar
 * @category SAE
 */
export function runWithSaes(model: HookedTransformer, input: ModelInput, splices: readonly SaeSplice[], opts?: RunWithHooksOptions & LogitsOptions): tf.Tensor3D;
export function runWithSaes(model: HookedTransformer, input: ModelInput, splices: readonly SaeSplice[], opts: RunWithHooksOptions & LossOptions): tf.Scalar;
export function runWithSaes(model: HookedTransformer, input: ModelInput, splices: readonly SaeSplice[], opts: RunWithHooksOptions & LossPerTokenOptions): tf.Tensor2D;
export function runWithSaes(model: HookedTransformer, input: ModelInput, splices: readonly SaeSplice[], opts: RunWithHooksOptions & BothOptions): LogitsAndLoss;
export function runWithSaes(model: HookedTransformer, input: ModelInput, splices: readonly SaeSplice[], opts: RunWithHooksOptions & NoneOptions): undefined;
export function runWithSaes(model: HookedTransformer, input: ModelInput, splices: readonly SaeSplice[], opts?: RunWithHooksOptions): ForwardOutput;
export function runWithSaes(model: HookedTransformer, input: ModelInput, splices: readonly SaeSplice[], opts: RunWithHooksOptions = {}): ForwardOutput {
  return model.runWithHooks(input, { ...opts, fwdHooks: [...saeFwdHooks(splices), ...(opts.fwdHooks ?? [])] });
}

/**
 * Run with SAEs spliced in and cache activations (SAELens `run_with_cache_with_saes`). The cache holds
 * the spliced (post-SAE) activation at each SAE's hook, plus `<hook>.hook_sae_acts_post` latents
 * [batch, pos, d_sae] in the returned map.
 * @param model A HookedTransformer.
 * @param input Text(s) or token ids.
 * @param splices SAEs to splice.
 * @param opts runWithCache options.
 * @returns `[output, cache, latents]`; the caller disposes all three.
 * @throws {@link "tfjs-lens"!HookNameError} for unknown names.
 * @example const [logits, cache, acts] = runWithCacheWithSaes(model, tokens, [{ sae }]);
 * @category SAE
 */
export function runWithCacheWithSaes(
  model: HookedTransformer,
  input: ModelInput,
  splices: readonly SaeSplice[],
  opts: RunWithCacheOptions = {},
): [ForwardOutput, ActivationCache, Map<string, tf.Tensor>] {
  const acts = new Map<string, tf.Tensor>();
  try {
    const [out, cache] = model.withHooks(saeFwdHooks(splices, acts), () => model.runWithCache(input, opts));
    return [out, cache, acts];
  } catch (err) {
    for (const t of acts.values()) t.dispose();
    throw err;
  }
}
