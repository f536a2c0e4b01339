/**
 * HookedRoot: owns the model's hook points, validates hook names, and scopes hooks to a run
 * (TransformerLens `HookedRootModule`: `add_hook`, `reset_hooks`, `hooks()`). Hooks added by
 * `runWithHooks` / `withHooks` are removed in `finally`, also when the run throws.
 */
import { HookNameError } from '../errors.js';
import { nearestNames } from '../utils/nearest.js';
import { type HookFlags, type HookSpec, isEnabled, FLAG_NAMES } from './hook_spec.js';
import { HookPoint, type HookFn } from './hook_point.js';
import type { HookDispatch } from './run_context.js';

/** A hook name, or a predicate over names. @category Hooks */
export type HookTarget = string | ((name: string) => boolean);

/** `[nameOrFilter, fn]` pairs, as TransformerLens `fwd_hooks`. @category Hooks */
export type FwdHooks = ReadonlyArray<readonly [HookTarget, HookFn]>;

/** Options of {@link HookedRoot.addHook}. @category Hooks */
export interface AddHookOptions {
  /** Survives `resetHooks()` unless `includingPermanent`. */
  readonly permanent?: boolean;
  /** Insert before the hooks already there. */
  readonly prepend?: boolean;
  /** Internal: hooks-context depth. */
  readonly level?: number;
}

/**
 * Base class of hooked models: a name → {@link HookPoint} registry.
 * @category Hooks
 */
export class HookedRoot {
  /** Every hook point, in forward order. */
  readonly hookDict = new Map<string, HookPoint>();
  private readonly specs = new Map<string, HookSpec>();
  private tableFor: (flags: HookFlags) => HookSpec[] = () => [];
  private readonly tableCache = new Map<string, readonly HookSpec[]>();
  private contextLevel = 0;
  /** Flags set on the model; per-call flags override them. */
  protected modelFlags: HookFlags = {};

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
   * registered, or not enabled under `flags`, is a bug in a component and throws.
   * @param flags Flags in force for the run.
   * @param fn Calling function, for messages.
   * @throws {@link "tfjs-lens"!HookNameError} (from the returned function) for such a name.
   */
  protected hookDispatch(flags: HookFlags, fn: string): HookDispatch<string> {
    const enabled = new Set(this.enabledHookNames(flags));
    return (name, x) => {
      if (!enabled.has(name)) this.checkHookName(name, flags, `${fn} (hook fired by a component)`);
      const hp = this.hookDict.get(name);
      return hp !== undefined && hp.hasHooks() ? hp.run(x) : x;
    };
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
   * Attach a hook to a name or to every name matching a filter.
   * @param target Hook name or predicate.
   * @param fn Hook function.
   * @param opts Permanent / prepend.
   * @throws {@link "tfjs-lens"!HookNameError} for unknown or disabled names.
   * @example model.addHook('blocks.0.attn.hook_pattern', (p) => { console.log(p.shape); });
   */
  addHook(target: HookTarget, fn: HookFn, opts: AddHookOptions = {}): void {
    for (const hp of this.resolveTarget(target, this.modelFlags, 'addHook')) {
      hp.add(fn, { permanent: opts.permanent, prepend: opts.prepend, level: opts.level });
    }
  }

  /** Attach a hook that survives {@link resetHooks} (TL `add_perma_hook`). */
  addPermanentHook(target: HookTarget, fn: HookFn): void {
    this.addHook(target, fn, { permanent: true });
  }

  /**
   * Remove hooks from every point.
   * @param opts.includingPermanent Also remove permanent hooks.
   */
  resetHooks(opts: { includingPermanent?: boolean } = {}): void {
    for (const hp of this.hookDict.values()) hp.remove({ includingPermanent: opts.includingPermanent });
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
   * Run `body` with `fwdHooks` attached, removing them afterwards even if it throws (TL `hooks()`).
   * Works with async bodies: hooks are removed when the promise settles.
   * @param fwdHooks `[nameOrFilter, fn]` pairs.
   * @param body Code to run.
   * @param flags Flags used to validate names (default: the model's).
   * @returns What `body` returns.
   */
  withHooks<T>(fwdHooks: FwdHooks, body: () => T, flags: HookFlags = this.modelFlags): T {
    this.contextLevel += 1;
    const level = this.contextLevel;
    const cleanup = (): void => {
      for (const hp of this.hookDict.values()) hp.remove({ level });
      this.contextLevel -= 1;
    };
    let result: T;
    try {
      for (const [target, fn] of fwdHooks) {
        for (const hp of this.resolveTarget(target, flags, 'withHooks')) hp.add(fn, { level });
      }
      result = body();
    } catch (err) {
      cleanup();
      throw err;
    }
    if (result instanceof Promise) {
      return result.finally(cleanup) as T;
    }
    cleanup();
    return result;
  }
}
