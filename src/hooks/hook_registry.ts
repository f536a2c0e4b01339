/**
 * HookedRoot: owns the model's hook points, validates hook names, and scopes hooks to a run
 * (TransformerLens `HookedRootModule`: `add_hook`, `reset_hooks`, `hooks()`), forward and backward
 * (`dir: 'bwd'`, see bwd_hooks.ts for when a backward pass exists). Hooks added by
 * `runWithHooks` / `withHooks` are removed in `finally`, also when the run throws. A run uses the
 * hooks attached when it starts (a snapshot), so hook changes made from inside a hook apply from the
 * next run; while an async `withHooks` body is pending, calls from outside it are refused (HookError).
 */
import type * as tf from '@tensorflow/tfjs-core';
import { HookError, HookNameError } from '../errors.js';
import { nearestNames } from '../utils/nearest.js';
import { type HookFlags, type HookSpec, isEnabled, FLAG_NAMES } from './hook_spec.js';
import { HookPoint, type HookDir, type HookDirection, type HookEntry, type HookFn } from './hook_point.js';
import { recordingGradients, throughBackwardHooks } from './bwd_hooks.js';
import type { HookDispatch } from './run_context.js';

/** A hook name, or a predicate over names. @category Hooks */
export type HookTarget = string | ((name: string) => boolean);

/** `[nameOrFilter, fn]` pairs, as TransformerLens `fwd_hooks`. @category Hooks */
export type FwdHooks = ReadonlyArray<readonly [HookTarget, HookFn]>;

/**
 * `[nameOrFilter, fn]` pairs of backward hooks, as TransformerLens `bwd_hooks`: `fn(grad, ctx)`
 * receives the gradient of the loss with respect to the point's output and may return a
 * replacement of the same shape. @category Hooks
 */
export type BwdHooks = FwdHooks;

/** Forward and backward hooks for one scope (TL `hooks(fwd_hooks, bwd_hooks)`). @category Hooks */
export interface ScopedHooks {
  /** Forward hooks. */
  readonly fwdHooks?: FwdHooks;
  /** Backward hooks (fire in a backward pass through the scope's runs). */
  readonly bwdHooks?: BwdHooks;
}

/** Options of {@link HookedRoot.resetHooks} and {@link HookedRoot.removeAllHookFns}. @category Hooks */
export interface RemoveHooksOptions {
  /** Also remove permanent hooks. */
  readonly includingPermanent?: boolean;
  /** Which hooks: 'fwd', 'bwd' or 'both' (default, as TL `reset_hooks`). */
  readonly dir?: HookDirection;
  /** Only the non-permanent hooks added by this hooks context (internal ids). */
  readonly level?: number;
}

/** Options of {@link HookedRoot.addHook}. @category Hooks */
export interface AddHookOptions {
  /** Survives `resetHooks()` unless `includingPermanent`. */
  readonly permanent?: boolean;
  /** Insert before the hooks already there. */
  readonly prepend?: boolean;
  /** Internal: id of the hooks context (withHooks call) that owns the hook; 0 = none. */
  readonly level?: number;
  /** 'fwd' (default) or 'bwd': a backward hook (TL `dir="bwd"`). */
  readonly dir?: HookDir;
}

/**
 * Base class of hooked models: a name → {@link HookPoint} registry.
 *
 * Hooks are model state, and these rules keep them from misbehaving:
 * - A run (forward, runWithHooks, runWithCache, generate) uses the hooks attached when it starts.
 *   `addHook`, `resetHooks` or `withHooks` called from inside a hook change what the next run sees,
 *   never the running pass (so a hook that adds a hook to its own point does not loop, and
 *   `resetHooks()` in a hook during `runWithCache` still returns every cached key).
 * - A hook is not re-entered: a run started from inside a hook fires the other hooks, not that one.
 * - While an async {@link withHooks} body is pending, runs and hook changes from outside it throw
 *   HookError (its hooks would apply to them); see {@link withHooks}.
 * @category Hooks
 */
export class HookedRoot {
  /** Every hook point, in forward order. */
  readonly hookDict = new Map<string, HookPoint>();
  private readonly specs = new Map<string, HookSpec>();
  private tableFor: (flags: HookFlags) => HookSpec[] = () => [];
  private readonly tableCache = new Map<string, readonly HookSpec[]>();
  /** Id of the next hooks context (hooks it adds carry it as their `level`). */
  private nextLevel = 1;
  /** Async withHooks bodies whose promise has not settled. */
  private pendingAsync = 0;
  /** withHooks bodies and `reenter` callbacks now on the synchronous call stack. */
  private scopeDepth = 0;
  /** Flags set on the model; per-call flags override them. */
  protected modelFlags: HookFlags = {};
  /** Seed of the backward pass being set up (taken by the next dispatcher; see bwd_hooks.ts). */
  private bwdSeed: tf.Scalar | undefined;

  /**
   * Register the hook points of the model's table (called by subclasses once).
   * @param table The model's hook table under a set of flags (names must not depend on the flags).
   */
  protected registerHooks(table: (flags: HookFlags) => HookSpec[]): void {
    this.tableFor = table;
    for (const s of table({})) {
      this.specs.set(s.name, s);
      this.hookDict.set(s.name, new HookPoint(s.name));
    }
  }

  /**
   * The model's hook table under `flags`: every registered hook point in forward order with its
   * shape, stage and how often it fires (flag-gated rows included and marked).
   * @param flags Flags in force (default: the model's).
   * @returns The specs (shared; do not mutate).
   */
  hookSpecs(flags: HookFlags = this.modelFlags): readonly HookSpec[] {
    const key = FLAG_NAMES.map((f) => (flags[f] === true ? '1' : '0')).join('');
    let t = this.tableCache.get(key);
    if (t === undefined) {
      t = this.tableFor(flags);
      this.tableCache.set(key, t);
    }
    return t;
  }

  /**
   * The hook dispatcher of one forward pass: fires the hooks attached at a name. A name that is not
   * registered, or not enabled under `flags`, is a bug in a component and throws. It fires the hooks
   * attached now (a snapshot): changes made while the run goes on apply from the next run. While tfjs
   * records a gradient tape, a point with backward hooks routes its activation (after the forward
   * hooks) through an identity whose gradient runs them.
   * @param flags Flags in force for the run.
   * @param fn Calling function, for messages.
   * @throws {@link "tfjs-lens"!HookNameError} (from the returned function) for such a name;
   *   {@link "tfjs-lens"!HookError} while an async withHooks body is pending and the run is not inside it.
   */
  protected hookDispatch(flags: HookFlags, fn: string): HookDispatch<string> {
    this.assertNotLocked(fn);
    const enabled = new Set(this.enabledHookNames(flags));
    // The run's snapshot: hooks added or removed while it runs (from a hook) apply from the next run.
    const attached = new Map<string, readonly HookEntry[]>();
    const backward = new Map<string, readonly HookEntry[]>();
    for (const [name, hp] of this.hookDict) {
      if (hp.fwdHooks.length > 0) attached.set(name, hp.fwdHooks);
      if (hp.bwdHooks.length > 0) backward.set(name, hp.bwdHooks);
    }
    const seed = this.bwdSeed;
    this.bwdSeed = undefined; // this run's: a run started from inside a hook gets none
    const dispatch = <T extends tf.Tensor>(name: string, x: T): T => {
      if (!enabled.has(name)) this.checkHookName(name, flags, `${fn} (hook fired by a component)`);
      const hooks = attached.get(name);
      const hp = this.hookDict.get(name);
      if (hp === undefined) return x;
      const y = hooks === undefined ? x : hp.runSnapshot(x, hooks);
      const back = backward.get(name);
      if (back === undefined || y.dtype !== 'float32' || !recordingGradients()) return y;
      return throughBackwardHooks(hp, back, y, seed);
    };
    return Object.assign(dispatch, { live: (name: string) => attached.has(name) || backward.has(name) });
  }

  /**
   * Refuse a run or hook change from outside a pending async {@link withHooks} body.
   * @throws {@link "tfjs-lens"!HookError} while one is pending and the caller is not inside it.
   */
  protected assertNotLocked(fn: string): void {
    if (this.pendingAsync === 0 || this.scopeDepth > 0) return;
    throw new HookError(
      `${fn}: an async withHooks body is pending on this model and its hooks would apply to this call; ` +
        'await it first, or make the call inside the body (before its first await, or through the reenter ' +
        'function withHooks passes to the body)',
    );
  }

  /** Enable or disable optional hook points for every later run (TL `set_use_attn_result` etc.). */
  setFlags(flags: HookFlags): void {
    this.modelFlags = { ...this.modelFlags, ...flags };
  }

  /** The flags in force for the model (per-call flags aside). */
  get flags(): HookFlags {
    return { ...this.modelFlags };
  }

  /** Merge per-call flags over the model's. */
  protected effectiveFlags(perCall: HookFlags | undefined): HookFlags {
    const out: Record<string, boolean> = {};
    for (const f of FLAG_NAMES) out[f] = (perCall?.[f] ?? this.modelFlags[f]) === true;
    return out as HookFlags;
  }

  /** Names of the hook points that fire under `flags`, in forward order. */
  enabledHookNames(flags: HookFlags = this.modelFlags): string[] {
    return this.hookSpecs(flags).filter((s) => isEnabled(s, flags)).map((s) => s.name);
  }

  /**
   * Check a hook name exists and fires under `flags`.
   * @throws {@link "tfjs-lens"!HookNameError} with the nearest valid names, or the flag to set.
   */
  checkHookName(name: string, flags: HookFlags = this.modelFlags, fn = 'addHook'): void {
    const spec = this.specs.get(name);
    if (spec === undefined) {
      const near = nearestNames(name, this.specs.keys()).join(', ');
      throw new HookNameError(`${fn}: unknown hook name '${name}' (nearest: ${near})`);
    }
    if (!isEnabled(spec, flags)) {
      throw new HookNameError(
        `${fn}: hook '${name}' is disabled; enable it with model.setFlags({${spec.flag}: true}) ` +
          `or per call ({${spec.flag}: true})`,
      );
    }
  }

  /** Resolve a name or filter to hook points (filters see only points enabled under `flags`). */
  protected resolveTarget(target: HookTarget, flags: HookFlags, fn: string): HookPoint[] {
    if (typeof target === 'string') {
      this.checkHookName(target, flags, fn);
      return [this.hookDict.get(target) as HookPoint];
    }
    return this.enabledHookNames(flags)
      .filter((n) => target(n))
      .map((n) => this.hookDict.get(n) as HookPoint);
  }

  /**
   * Attach a hook to a name or to every name matching a filter. Called from inside a hook, the new
   * hook fires from the next run (the running pass keeps its snapshot), so a hook that adds a hook
   * to its own point does not loop.
   * @param target Hook name or predicate.
   * @param fn Hook function.
   * @param opts Permanent / prepend.
   * @throws {@link "tfjs-lens"!HookNameError} for unknown or disabled names; {@link "tfjs-lens"!HookError}
   *   while an async withHooks body is pending and the call is not inside it.
   * @example model.addHook('blocks.0.attn.hook_pattern', (p) => { console.log(p.shape); });
   */
  addHook(target: HookTarget, fn: HookFn, opts: AddHookOptions = {}): void {
    this.assertNotLocked('addHook');
    for (const hp of this.resolveTarget(target, this.modelFlags, 'addHook')) {
      hp.add(fn, { permanent: opts.permanent, prepend: opts.prepend, level: opts.level, dir: opts.dir });
    }
  }

  /** Attach a hook that survives {@link resetHooks} (TL `add_perma_hook`); `dir` 'bwd' for a backward hook. */
  addPermanentHook(target: HookTarget, fn: HookFn, dir: HookDir = 'fwd'): void {
    this.addHook(target, fn, { permanent: true, dir });
  }

  /** Whether a backward hook is attached to any point. */
  hasBwdHooks(): boolean {
    for (const hp of this.hookDict.values()) if (hp.bwdHooks.length > 0) return true;
    return false;
  }

  /**
   * Run `body` with `seed` handed to the next run's dispatcher: it adds the seed at every
   * backward-hooked activation (see bwd_hooks.ts `runBackward`).
   */
  protected withBackwardSeed<T>(seed: tf.Scalar, body: () => T): T {
    this.bwdSeed = seed;
    try {
      return body();
    } finally {
      this.bwdSeed = undefined;
    }
  }

  /**
   * Remove hooks from every point (also those of enclosing withHooks/runWithHooks scopes). Called
   * from inside a hook, it takes effect from the next run: the running pass keeps the hooks it
   * started with, so a runWithCache in progress still records every key.
   * @param opts includingPermanent (also remove permanent hooks); dir: 'fwd', 'bwd' or 'both' (default, as TL).
   * @throws {@link "tfjs-lens"!HookError} while an async withHooks body is pending and the call is not inside it.
   */
  resetHooks(opts: RemoveHooksOptions = {}): void {
    this.removeAllHookFns(opts, 'resetHooks');
  }

  /**
   * Remove hooks from every point (TL `remove_all_hook_fns`; {@link resetHooks} does the same, as we
   * keep no hook contexts to clear).
   * @param opts includingPermanent, dir ('both' by default), level.
   * @param fn Calling function, for messages.
   * @throws {@link "tfjs-lens"!HookError} while an async withHooks body is pending and the call is not inside it.
   */
  removeAllHookFns(opts: RemoveHooksOptions = {}, fn = 'removeAllHookFns'): void {
    this.assertNotLocked(fn);
    for (const hp of this.hookDict.values()) hp.remove({ includingPermanent: opts.includingPermanent, dir: opts.dir ?? 'both', level: opts.level });
  }

  /** Whether any hook point has a hook attached. */
  hasHooks(): boolean {
    for (const hp of this.hookDict.values()) if (hp.hasHooks()) return true;
    return false;
  }

  /** Fail if a hook is attached to a point that does not fire under `flags`. */
  protected checkAttachedHooks(flags: HookFlags, fn: string): void {
    for (const [name, hp] of this.hookDict) {
      const spec = this.specs.get(name);
      if (hp.hasHooks() && spec !== undefined && !isEnabled(spec, flags)) {
        throw new HookNameError(
          `${fn}: a hook is attached to '${name}', which is disabled for this run; set {${spec.flag}: true}`,
        );
      }
    }
  }

  /**
   * Run `body` with hooks attached, removing them afterwards even if it throws (TL `hooks()`):
   * forward hooks as a list, or `{fwdHooks, bwdHooks}`. Backward hooks fire in the backward passes of
   * the body's runs (runWithHooks with a loss or bwdMetric, runWithCache with inclBwd,
   * gradientsAtHooks, a tf.grad around a forward).
   *
   * An async body (one that returns a promise) keeps the hooks until the promise settles. Hooks are
   * model state and JavaScript cannot tell which code an `await` resumes, so while such a body is
   * pending the model accepts runs (forward, runWithHooks, runWithCache, generate) and hook changes
   * (addHook, resetHooks, withHooks) only from inside it: from its synchronous part before the first
   * `await`, or inside `reenter(() => …)`, the function passed to the body. Any other such call (e.g.
   * a concurrent `forward()` elsewhere, or one after an `await` in the body without `reenter`) throws
   * HookError instead of silently running with the body's hooks.
   * @param hooks `[nameOrFilter, fn]` forward pairs, or `{fwdHooks, bwdHooks}`.
   * @param body Code to run; it receives `reenter`, which runs a synchronous callback inside this
   *   scope (needed only after an `await` in an async body; it throws HookError once the body settled).
   * @param flags Flags used to validate names (default: the model's).
   * @returns What `body` returns.
   * @throws {@link "tfjs-lens"!HookError} while another async withHooks body is pending and this call
   *   is not inside it; {@link "tfjs-lens"!HookNameError} for unknown or disabled names.
   * @example
   * const loss = await model.withHooks([['blocks.0.hook_resid_post', zeroAblate]], async (reenter) => {
   *   const tokens = await loadBatch();
   *   return reenter(() => model.loss(tokens));
   * });
   */
  withHooks<T>(hooks: FwdHooks | ScopedHooks, body: (reenter: <U>(fn: () => U) => U) => T, flags: HookFlags = this.modelFlags): T {
    this.assertNotLocked('withHooks');
    const level = this.nextLevel++;
    let settled = false;
    const cleanup = (): void => {
      settled = true;
      for (const hp of this.hookDict.values()) hp.remove({ level });
    };
    const reenter = <U>(fn: () => U): U => {
      if (settled) throw new HookError('withHooks: reenter was called after the body settled; its hooks are gone');
      return this.inScope(fn);
    };
    let result: T;
    try {
      const scoped: ScopedHooks = Array.isArray(hooks) ? { fwdHooks: hooks as FwdHooks } : (hooks as ScopedHooks);
      for (const [dir, list] of [['fwd', scoped.fwdHooks ?? []], ['bwd', scoped.bwdHooks ?? []]] as const) {
        for (const [target, fn] of list) {
          for (const hp of this.resolveTarget(target, flags, 'withHooks')) hp.add(fn, { level, dir });
        }
      }
      result = this.inScope(() => body(reenter));
    } catch (err) {
      cleanup();
      throw err;
    }
    if (!(result instanceof Promise)) {
      cleanup();
      return result;
    }
    this.pendingAsync += 1;
    return result.finally(() => {
      this.pendingAsync -= 1;
      cleanup();
    }) as T;
  }

  /** Run `fn` with the scope depth raised (calls it makes are inside a withHooks scope). */
  private inScope<U>(fn: () => U): U {
    this.scopeDepth += 1;
    try {
      return fn();
    } finally {
      this.scopeDepth -= 1;
    }
  }
}
