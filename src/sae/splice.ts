/**
 * Splicing SAEs into a model's forward pass with hooks (SAELens `HookedSAETransformer`:
 * `run_with_saes`, `run_with_cache_with_saes`): the activation at the SAE's hook is replaced by the
 * reconstruction, optionally plus the exact error term (so only latent edits change the run). As in
 * SAELens, the SAE's own hook points are cached under `<hook>.hook_sae_input`, `<hook>.hook_sae_acts_pre`,
 * `<hook>.hook_sae_acts_post`, `<hook>.hook_sae_recons`, `<hook>.hook_sae_error` (error term only) and
 * `<hook>.hook_sae_output` (SAELens attaches the SAE module at the hook's path, so its hook points are
 * named `<hook>.<sae hook>`). Unlike SAELens, where the SAE replaces the hook point, the model's own
 * `<hook>` also stays in the cache, holding the spliced (post-SAE) activation.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError } from '../errors.js';
import { ActivationCache } from '../hooks/activation_cache.js';
import type { NamesFilter } from '../hooks/caching.js';
import type { HookFn } from '../hooks/hook_point.js';
import type { FwdHooks } from '../hooks/hook_registry.js';
import type { BothOptions, ForwardOutput, HookedTransformer, LogitsAndLoss, LogitsOptions, LossOptions, LossPerTokenOptions, NoneOptions, RunWithCacheOptions, RunWithHooksOptions } from '../model/hooked_transformer.js';
import type { ModelInput } from '../model/inputs.js';
import { SAE_HOOK_NAMES, type SaeHookFn, type SaeHookName, type SparseAutoencoder } from './sae.js';

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
  /** Functions at the SAE's own hook points (SAELens `sae.add_hook('hook_sae_acts_post', fn)`). */
  readonly hooks?: ReadonlyArray<readonly [SaeHookName, SaeHookFn]>;
}

/** Options of {@link runWithSaes} / {@link runWithCacheWithSaes} beyond the model's. @category SAE */
export interface SaeRunOptions {
  /** When set, overrides every splice's `useErrorTerm` for this run (SAELens `use_error_term` argument). */
  readonly useErrorTerm?: boolean;
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
export function saeReplacementHook(s: SaeSplice, record?: (acts: tf.Tensor) => void, recordHooks?: (name: SaeHookName, value: tf.Tensor) => void): HookFn {
  return (act: tf.Tensor) => {
    const lead = act.shape.slice(0, s.sae.cfg.reshapeActivations === 'hook_z' || act.rank >= 4 ? -2 : -1);
    return s.sae.forward(act, {
      useErrorTerm: s.useErrorTerm === true,
      ...(s.editFeatures !== undefined ? { editFeatures: s.editFeatures } : {}),
      ...(s.hooks !== undefined ? { hooks: s.hooks } : {}),
      ...(record !== undefined ? { recordFeatures: (f: tf.Tensor2D) => record(tf.keep(tf.reshape(f, [...lead, s.sae.cfg.dSae]))) } : {}), // [batch, pos, d_sae]
      ...(recordHooks !== undefined ? { record: (n: SaeHookName, v: tf.Tensor) => recordHooks(n, tf.keep(v.clone())) } : {}),
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
export function saeFwdHooks(splices: readonly SaeSplice[], featureActs?: Map<string, tf.Tensor>, hookValues?: Map<string, tf.Tensor>): FwdHooks {
  return splices.map((s) => {
    const name = spliceHookName(s);
    const key = `${name}.hook_sae_acts_post`;
    const record = featureActs === undefined ? undefined : (a: tf.Tensor): void => {
      featureActs.get(key)?.dispose();
      featureActs.set(key, a);
    };
    const recordHooks = hookValues === undefined ? undefined : (n: SaeHookName, v: tf.Tensor): void => {
      const full = `${name}.${n}`;
      hookValues.get(full)?.dispose();
      hookValues.set(full, v);
    };
    return [name, saeReplacementHook(s, record, recordHooks)] as const;
  });
}

/** The splices with `useErrorTerm` overridden when the run sets it. */
function withErrorTerm(splices: readonly SaeSplice[], useErrorTerm: boolean | undefined): readonly SaeSplice[] {
  return useErrorTerm === undefined ? splices : splices.map((s) => ({ ...s, useErrorTerm }));
}

/** Whether a cache name passes a namesFilter. */
function passes(filter: NamesFilter | undefined, name: string): boolean {
  if (filter === undefined) return true;
  if (typeof filter === 'function') return filter(name);
  return typeof filter === 'string' ? filter === name : filter.includes(name);
}

/** The filter the model sees: SAE hook names (`….hook_sae_*`) removed from explicit lists. */
function modelFilter(filter: NamesFilter | undefined): NamesFilter | undefined {
  if (filter === undefined || typeof filter === 'function') return filter;
  const list = (typeof filter === 'string' ? [filter] : [...filter]).filter((n) => !/\.hook_sae_[a-z_]+$/.test(n));
  return list;
}

/**
 * Run the model with SAEs spliced in (SAELens `run_with_saes`); hooks are removed afterwards.
 * @param model A HookedTransformer.
 * @param input Text(s) or token ids.
 * @param splices SAEs, hooks, error term, latent edits.
 * @param opts Forward options, extra `fwdHooks` (model hooks run after the SAE hooks at the same point; a hook
 *   named `<SAE hook>.hook_sae_acts_post` etc. runs at that SAE hook point, as SAELens `run_with_hooks_with_saes`)
 *   and `useErrorTerm` (overrides every splice's).
 * @returns As `model.forward`.
 * @throws {@link "tfjs-lens"!HookNameError} for a hook the model lacks.
 * @example const loss = runWithSaes(model, tokens, [{ sae }], { returnType: 'loss' }); // tf.Scalar
 * @category SAE
 */
export function runWithSaes(model: HookedTransformer, input: ModelInput, splices: readonly SaeSplice[], opts?: RunWithHooksOptions & SaeRunOptions & LogitsOptions): tf.Tensor3D;
export function runWithSaes(model: HookedTransformer, input: ModelInput, splices: readonly SaeSplice[], opts: RunWithHooksOptions & SaeRunOptions & LossOptions): tf.Scalar;
export function runWithSaes(model: HookedTransformer, input: ModelInput, splices: readonly SaeSplice[], opts: RunWithHooksOptions & SaeRunOptions & LossPerTokenOptions): tf.Tensor2D;
export function runWithSaes(model: HookedTransformer, input: ModelInput, splices: readonly SaeSplice[], opts: RunWithHooksOptions & SaeRunOptions & BothOptions): LogitsAndLoss;
export function runWithSaes(model: HookedTransformer, input: ModelInput, splices: readonly SaeSplice[], opts: RunWithHooksOptions & SaeRunOptions & NoneOptions): undefined;
export function runWithSaes(model: HookedTransformer, input: ModelInput, splices: readonly SaeSplice[], opts?: RunWithHooksOptions & SaeRunOptions): ForwardOutput;
export function runWithSaes(model: HookedTransformer, input: ModelInput, splices: readonly SaeSplice[], opts: RunWithHooksOptions & SaeRunOptions = {}): ForwardOutput {
  const { useErrorTerm, ...rest } = opts;
  const routed = routeSaeHooks(withErrorTerm(splices, useErrorTerm), rest.fwdHooks ?? []);
  return model.runWithHooks(input, { ...rest, fwdHooks: [...saeFwdHooks(routed.splices), ...routed.modelHooks] });
}

/**
 * Send `fwdHooks` named `<splice hook>.hook_sae_*` (SAELens `run_with_hooks_with_saes` names) to that
 * splice's SAE hook points; the rest stay model hooks.
 */
function routeSaeHooks(splices: readonly SaeSplice[], fwdHooks: FwdHooks): { splices: readonly SaeSplice[]; modelHooks: FwdHooks } {
  const extra = new Map<string, [SaeHookName, SaeHookFn][]>();
  const modelHooks: FwdHooks[number][] = [];
  const names = new Set(splices.map((s) => spliceHookName(s)));
  for (const h of fwdHooks) {
    const [target, fn] = h;
    const m = typeof target === 'string' ? /^(.*)\.(hook_sae_[a-z_]+)$/.exec(target) : null;
    const hook = m?.[1];
    const point = m?.[2] as SaeHookName | undefined;
    if (hook === undefined || point === undefined || !names.has(hook) || !(SAE_HOOK_NAMES as readonly string[]).includes(point)) {
      modelHooks.push(h);
      continue;
    }
    const saeFn: SaeHookFn = (v) => fn(v, { name: target as string, layer: layerOf(hook) }) ?? undefined;
    extra.set(hook, [...(extra.get(hook) ?? []), [point, saeFn]]);
  }
  if (extra.size === 0) return { splices, modelHooks };
  return {
    splices: splices.map((s) => {
      const more = extra.get(spliceHookName(s));
      return more === undefined ? s : { ...s, hooks: [...(s.hooks ?? []), ...more] };
    }),
    modelHooks,
  };
}

function layerOf(hook: string): number | undefined {
  const m = /^blocks\.(\d+)\./.exec(hook);
  return m?.[1] !== undefined ? Number(m[1]) : undefined;
}

/**
 * Run with SAEs spliced in and cache activations (SAELens `run_with_cache_with_saes`). The returned
 * ActivationCache holds the model's hooks (the spliced, post-SAE activation at each SAE's hook) and, in
 * forward order right after it, the SAE hook points as `<hook>.hook_sae_input` [batch, pos, d_in],
 * `<hook>.hook_sae_acts_pre` / `<hook>.hook_sae_acts_post` [batch, pos, d_sae], `<hook>.hook_sae_recons`,
 * `<hook>.hook_sae_error` (error term only) and `<hook>.hook_sae_output` (the hook's shape). `namesFilter`
 * applies to both kinds of name. The third element repeats the latents by `<hook>.hook_sae_acts_post` (kept
 * for existing callers; its tensors are separate copies).
 * @param model A HookedTransformer.
 * @param input Text(s) or token ids.
 * @param splices SAEs to splice.
 * @param opts runWithCache options and `useErrorTerm` (overrides every splice's).
 * @returns `[output, cache, latents]`; the caller disposes all three.
 * @throws {@link "tfjs-lens"!HookNameError} for unknown names.
 * @example const [logits, cache] = runWithCacheWithSaes(model, tokens, [{ sae }]); cache.get('blocks.1.hook_resid_pre.hook_sae_acts_post');
 * @category SAE
 */
export function runWithCacheWithSaes(
  model: HookedTransformer,
  input: ModelInput,
  splices: readonly SaeSplice[],
  opts: RunWithCacheOptions & SaeRunOptions = {},
): [ForwardOutput, ActivationCache, Map<string, tf.Tensor>] {
  const { useErrorTerm, namesFilter, ...rest } = opts;
  const acts = new Map<string, tf.Tensor>();
  const hookValues = new Map<string, tf.Tensor>();
  const used = withErrorTerm(splices, useErrorTerm);
  const disposeAll = (): void => {
    for (const t of acts.values()) t.dispose();
    for (const t of hookValues.values()) t.dispose();
  };
  try {
    const mf = modelFilter(namesFilter);
    const [out, cache] = model.withHooks(saeFwdHooks(used, acts, hookValues), () => model.runWithCache(input, { ...rest, ...(mf !== undefined ? { namesFilter: mf } : {}) }));
    const byHook = new Map<string, [string, tf.Tensor][]>();
    for (const [full, t] of hookValues) {
      if (!passes(namesFilter, full)) {
        t.dispose();
        continue;
      }
      const hook = full.slice(0, full.lastIndexOf('.hook_sae_'));
      byHook.set(hook, [...(byHook.get(hook) ?? []), [full, t]]);
    }
    hookValues.clear();
    const merged = new Map<string, tf.Tensor>();
    for (const [k, v] of cache.entries()) {
      merged.set(k, v);
      for (const [full, t] of byHook.get(k) ?? []) merged.set(full, t);
      byHook.delete(k);
    }
    for (const list of byHook.values()) for (const [full, t] of list) merged.set(full, t);
    return [out, new ActivationCache(merged, cache.nLayers, cache.hasBatchDim), acts];
  } catch (err) {
    disposeAll();
    throw err;
  }
}
