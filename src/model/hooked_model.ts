/**
 * HookedModel: the one run path every model class uses (decoder, encoder, and the families to
 * come). It owns the rules that must not differ between models:
 *   - option keys are checked (an unknown key is a ConfigError naming the nearest valid one);
 *   - `stopAtLayer` (an integer in [-n_layers, n_layers]) replaces the output by the residual stream
 *     entering that block; `returnType: 'none'` always returns undefined;
 *   - which hooks a cache records (names filter; block hooks below the stop layer; head hooks only
 *     when the head runs) and when a run may end early (output discarded, no user hooks attached);
 *   - the memory estimate, with cached bytes computed from the hook table's shapes;
 *   - backward hooks: when a run makes a backward pass (below) and what it differentiates.
 *
 * Backward passes (TL `bwd_hooks`, `run_with_cache(incl_bwd=True)`; mechanism in hooks/bwd_hooks.ts).
 * tfjs has no `loss.backward()`, so a run that needs one makes it before returning, as TL's
 * `run_with_hooks(…)` followed by `loss.backward()`:
 *   - `runWithHooks` makes a backward pass when it is given `bwdHooks` or `bwdMetric`, or when its
 *     output is the scalar loss (`returnType: 'loss'`, not per token) and a backward hook is attached
 *     to the model (`addHook(…, {dir: 'bwd'})`, an enclosing `withHooks({bwdHooks})`);
 *   - `runWithCache` makes one with `inclBwd: true` (gradients cached as `<name>_grad`);
 *   - `forward`, `runWithCache` without inclBwd and generation never do (attached backward hooks do
 *     not fire); a backward pass made by other code through a forward (gradientsAtHooks, a user's
 *     tf.grad around `forward`) fires them at the points it goes through.
 * What is differentiated: `bwdMetric(output)` when given (the output must be a tensor: returnType
 * 'logits', 'embeddings' or 'loss'), else the output, which must be a scalar (`returnType: 'loss'`);
 * anything else is a ConfigError naming the fix. The returned output is a normal tensor.
 * A model class supplies its hook table, input resolution and forward pass ({@link execute}).
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError } from '../errors.js';
import type { ActivationCache } from '../hooks/activation_cache.js';
import { runBackward, type BwdMetric } from '../hooks/bwd_hooks.js';
import { filterNames, runRecording, type NamesFilter } from '../hooks/caching.js';
import { hookDims, isEnabled, specBytes, type HookFlags, type HookSpec } from '../hooks/hook_spec.js';
import { HookedRoot, type BwdHooks, type FwdHooks } from '../hooks/hook_registry.js';
import { checkOptionKeys } from '../utils/options.js';
import { checkRunFits } from './memory_guard.js';
import type { SequenceClassifier } from './classifier/head_params.js';
import type { LabelConfig } from './classifier/labels.js';
import type { AdapterHost } from './lora/adapter_host.js';
import type { LoraAdapter } from './lora/lora_adapter.js';

/** Options every model's forward takes. */
export interface BaseRunOptions extends HookFlags {
  /** What to return; 'none' returns undefined. */
  readonly returnType?: string;
  /** Exclusive layer to stop at (negative counts from the end); the residual stream is returned. */
  readonly stopAtLayer?: number;
}

/** What a run's backward pass differentiates (see {@link HookedModel}). */
export interface BackwardOption {
  /**
   * Output tensor → scalar (tf ops) to differentiate, e.g. `(logits) => tf.sum(logits)` (TL
   * `out.sum().backward()`); default: the output itself, which must be the scalar loss.
   */
  readonly bwdMetric?: BwdMetric;
}

/** Extra options of `runWithCache`. */
export interface CacheOption extends BackwardOption {
  /** Which hooks to cache: a name, names, or a predicate (default: all enabled hooks); also selects the gradients. */
  readonly namesFilter?: NamesFilter;
  /**
   * Also make the backward pass and cache the gradient at each selected hook as `<name>_grad`
   * (TL `incl_bwd`): the output must be the scalar loss (`returnType: 'loss'`) or `bwdMetric` given.
   */
  readonly inclBwd?: boolean;
  /** Drop the batch axis of every cached tensor (TL `remove_batch_dim`); needs a batch of 1. */
  readonly removeBatchDim?: boolean;
}

/** Extra options of `runWithHooks`. */
export interface HooksOption extends BackwardOption {
  /** `[nameOrFilter, fn]` pairs; removed after the run, also if it throws. */
  readonly fwdHooks?: FwdHooks;
  /**
   * `[nameOrFilter, fn(grad, ctx)]` backward hooks (TL `bwd_hooks`): the run then makes its backward
   * pass before returning (needs `returnType: 'loss'` or `bwdMetric`); removed after the run.
   */
  readonly bwdHooks?: BwdHooks;
}

/** Token rows of a resolved input (a model class adds masks, token types, …). */
export interface ResolvedRows {
  /** Token ids [batch, pos]. */
  readonly rows: number[][];
}

/** Sizes a model's hook shapes and memory estimate use (glossary names). */
export interface ModelDims {
  /** Number of blocks. */
  readonly nLayers: number;
  /** Residual width. */
  readonly dModel: number;
  /** Heads per block. */
  readonly nHeads: number;
  /** Width of one head. */
  readonly dHead: number;
  /** MLP width (0 if none). */
  readonly dMlp: number;
  /** Vocabulary (output logits width). */
  readonly dVocab: number;
  /** Key/value heads with grouped-query attention (default nHeads). */
  readonly nKeyValueHeads?: number;
  /** Class labels of a sequence-classification head (default 0: none). */
  readonly nLabels?: number;
}

/**
 * Normalise a stopAtLayer to [0, nLayers].
 * @throws {@link "tfjs-lens"!ConfigError} for a non-integer or one outside [-nLayers, nLayers].
 */
function resolveStopAtLayer(stop: number | undefined, nLayers: number, fn = 'forward'): number {
  if (stop === undefined) return nLayers;
  if (!Number.isInteger(stop) || stop < -nLayers || stop > nLayers) {
    throw new ConfigError(`${fn}: stopAtLayer must be an integer in [${-nLayers}, ${nLayers}], got ${stop}`);
  }
  return stop < 0 ? nLayers + stop : stop;
}

/**
 * Base class of hooked models: the shared run path (see the module comment).
 * @typeParam O The family's forward options.
 * @typeParam R The family's resolved input.
 * @typeParam Out Everything the family's forward can return.
 * @category Hooks
 */
export abstract class HookedModel<O extends BaseRunOptions, R extends ResolvedRows, Out> extends HookedRoot {
  /** Sequence-classification head (`*ForSequenceClassification`; owned by the model), or undefined. */
  protected classifier: SequenceClassifier | undefined;
  /** LoRA adapter state (PEFT format): what the adapter methods below act on; used by fine-tuning. */
  abstract readonly adapters: AdapterHost<unknown>;
  /** The model's parameters; throws DisposedError after dispose. */
  abstract get params(): unknown;

  /** Labels of a sequence-classification head (num_labels, id2label, label2id, problem_type); undefined without one. */
  get labels(): LabelConfig | undefined {
    return this.classifier?.labels;
  }

  /** The sequence-classification head (labels, pad id, weights), or undefined. @throws {@link "tfjs-lens"!DisposedError} after dispose. */
  get classifierHead(): SequenceClassifier | undefined {
    void this.params; // throws once disposed
    return this.classifier;
  }

  /** Refuse a classifier-only call on a model without a sequence-classification head. */
  protected requireClassifier(fn: string): void {
    if (this.classifierHead === undefined) throw new ConfigError(`${fn}: this checkpoint has no sequence-classification head (load a *ForSequenceClassification checkpoint)`);
  }

  /**
   * Apply a PEFT LoRA adapter folder (adapter_config.json + adapter_model.safetensors), unmerged:
   * each forward computes with W + s·B·A, and `modules_to_save` modules (the classifier head)
   * replace the base ones. Decoders: an unprocessed Llama / Mistral / Qwen2 model (`fromPretrainedNoProcessing`).
   * @param dir Adapter folder.
   * @returns The adapter (owned by the model).
   * @throws {@link "tfjs-lens"!ConfigError} for an unsupported peft_type, family or processed weights, or a module
   *   the model lacks (naming the nearest module path); {@link "tfjs-lens"!WeightLoadError} for a tensor of the wrong shape.
   * @example await clf.loadAdapter('out/lora'); const logits = clf.classify(ids, { attentionMask });
   */
  loadAdapter(dir: string): Promise<LoraAdapter> {
    return this.adapters.load(dir);
  }

  /** Merge the adapter into the base weights (PEFT `merge_and_unload`, originals kept). @throws {@link "tfjs-lens"!ConfigError} without an adapter. */
  mergeAdapter(): void {
    this.adapters.merge();
  }

  /** Restore the base weights replaced by {@link HookedModel.mergeAdapter} (bit-identical). @throws {@link "tfjs-lens"!ConfigError} without an adapter. */
  unmergeAdapter(): void {
    this.adapters.unmerge();
  }

  /**
   * Write the attached adapter as a PEFT folder that PEFT's `PeftModel.from_pretrained` loads.
   * @param dir Output folder (created).
   * @returns The folder.
   * @throws {@link "tfjs-lens"!ConfigError} without an adapter.
   * @example await clf.saveAdapter('out/lora');
   */
  saveAdapter(dir: string): Promise<string> {
    return this.adapters.save(dir);
  }

  /** Valid forward option keys (checked at run time for plain-JS callers). */
  protected abstract readonly forwardOptionKeys: Readonly<Record<string, true>>;
  /** Sizes for memory estimates. */
  protected abstract get dims(): ModelDims;
  /** Tokenise / validate the input and masks. */
  protected abstract resolveRun(input: unknown, opts: O, fn: string): R;
  /** Whether the hooks after the blocks (`stage: 'head'`) fire in a run with these options. */
  protected abstract headRuns(opts: O, fn: string): boolean;
  /** Whether the run computes [batch, pos, d_vocab] logits (for the memory estimate). */
  protected abstract computesLogits(opts: O, fn: string): boolean;
  /**
   * The family's forward pass and output, with the hook dispatcher of `flags` (stop already checked).
   * @param stop Resolved stop layer, or undefined when the caller gave none.
   */
  protected abstract execute(resolved: R, opts: O, flags: HookFlags, stop: number | undefined, fn: string): Out;

  /** Check stopAtLayer against the return type: the residual replaces logits, never a loss. */
  protected planStop(opts: O, fn: string): number | undefined {
    if (opts.stopAtLayer === undefined) return undefined;
    const stop = resolveStopAtLayer(opts.stopAtLayer, this.dims.nLayers, fn);
    if (opts.returnType === 'loss' || opts.returnType === 'both') {
      throw new ConfigError(`${fn}: stopAtLayer returns the residual stream, so returnType '${opts.returnType}' cannot be computed; use 'logits' or 'none'`);
    }
    return stop;
  }

  private runChecked(resolved: R, opts: O, flags: HookFlags, stop: number | undefined, cacheBytes: number, fn: string): Out {
    this.checkAttachedHooks(flags, fn);
    const { dModel, dMlp, nHeads, dVocab } = this.dims;
    const batch = resolved.rows.length;
    const pos = resolved.rows[0]?.length ?? 0;
    checkRunFits({ batch, pos, dModel, dMlp, nHeads, dVocab, cacheBytes, logits: stop === undefined && this.computesLogits(opts, fn) }, fn);
    return this.execute(resolved, opts, flags, stop, fn);
  }

  /** forward: check options, resolve, run. */
  protected forwardImpl(input: unknown, opts: O, fn: string): Out {
    checkOptionKeys(opts, this.forwardOptionKeys, fn);
    const flags = this.effectiveFlags(opts);
    const stop = this.planStop(opts, fn);
    return this.runChecked(this.resolveRun(input, opts, fn), opts, flags, stop, 0, fn);
  }

  /**
   * Whether a run makes a backward pass (see the class comment), checking what it would differentiate.
   * @param requested The call asks for one (bwdHooks given, inclBwd).
   * @throws {@link "tfjs-lens"!ConfigError} when one is asked for but there is no scalar to differentiate.
   */
  protected plansBackward(opts: O & BackwardOption, requested: boolean, fn: string): boolean {
    const scalarLoss = opts.returnType === 'loss' && (opts as { readonly lossPerToken?: boolean }).lossPerToken !== true;
    if (opts.bwdMetric !== undefined) {
      if (opts.returnType === 'none' || opts.returnType === 'both') {
        throw new ConfigError(`${fn}: bwdMetric takes the output tensor, so returnType '${opts.returnType}' cannot be used with it; use 'logits' (or leave it out)`);
      }
      return true;
    }
    if (requested && !scalarLoss) {
      throw new ConfigError(
        `${fn}: a backward pass needs a scalar to differentiate; pass returnType: 'loss' (the mean loss, not per token) ` +
          'or bwdMetric: (output) => a tf.Scalar, e.g. (logits) => tf.sum(logits)',
      );
    }
    return requested || (scalarLoss && this.hasBwdHooks());
  }

  /** `body` under a backward pass of its output (or of bwdMetric): fires the backward hooks. */
  private withBackward(body: () => Out, opts: BackwardOption, fn: string): Out {
    return runBackward((seed) => this.withBackwardSeed(seed, body), opts.bwdMetric, fn);
  }

  /** runWithHooks: forward with temporary hooks (removed in `finally`), and its backward pass when planned. */
  protected runWithHooksImpl(input: unknown, opts: O & HooksOption, fn: string): Out {
    checkOptionKeys(opts, { ...this.forwardOptionKeys, fwdHooks: true, bwdHooks: true, bwdMetric: true }, fn);
    const flags = this.effectiveFlags(opts);
    const stop = this.planStop(opts, fn);
    const backward = this.plansBackward(opts, (opts.bwdHooks ?? []).length > 0, fn);
    const resolved = this.resolveRun(input, opts, fn);
    const body = (): Out => this.runChecked(resolved, opts, flags, stop, 0, fn);
    const hooks = { fwdHooks: opts.fwdHooks ?? [], bwdHooks: opts.bwdHooks ?? [] };
    return this.withHooks(hooks, backward ? () => this.withBackward(body, opts, fn) : body, flags);
  }

  /** The hooks a cache records under these options, in forward order (the stop rule). */
  protected recordedSpecs(opts: O & CacheOption, flags: HookFlags, stop: number | undefined, fn: string): HookSpec[] {
    const enabled = this.hookSpecs(flags).filter((s) => isEnabled(s, flags));
    const chosen = new Set(filterNames(opts.namesFilter, enabled.map((s) => s.name), (n) => this.checkHookName(n, flags, fn)));
    const end = stop ?? this.dims.nLayers;
    const head = stop === undefined && this.headRuns(opts, fn);
    return enabled.filter((s) => chosen.has(s.name) && (s.stage === 'embed' || (s.stage === 'block' ? (s.layer ?? 0) < end : head)));
  }

  /**
   * runWithCache: record activations. With `returnType: 'none'` and no hooks attached to the model,
   * the run ends right after the last recorded hook fires for the last time.
   */
  protected runWithCacheImpl(input: unknown, opts: O & CacheOption, fn: string): [Out | undefined, ActivationCache] {
    checkOptionKeys(opts, { ...this.forwardOptionKeys, namesFilter: true, inclBwd: true, removeBatchDim: true, bwdMetric: true }, fn);
    const flags = this.effectiveFlags(opts);
    const stop = this.planStop(opts, fn);
    const inclBwd = opts.inclBwd === true;
    if (inclBwd) this.plansBackward(opts, true, fn);
    else if (opts.bwdMetric !== undefined) throw new ConfigError(`${fn}: bwdMetric is used only with inclBwd: true (runWithCache makes no backward pass without it)`);
    const recorded = this.recordedSpecs(opts, flags, stop, fn);
    const resolved = this.resolveRun(input, opts, fn);
    if (opts.removeBatchDim === true && resolved.rows.length !== 1) {
      throw new ConfigError(`${fn}: removeBatchDim needs a batch of 1, got ${resolved.rows.length}; run one prompt at a time or leave removeBatchDim out`);
    }
    const d = this.dims;
    const sizes = hookDims(d, resolved.rows.length, resolved.rows[0]?.length ?? 0);
    const cacheBytes = recorded.reduce((acc, s) => acc + specBytes(s.shape, sizes), 0) * (inclBwd ? 2 : 1);
    // Output dropped and no user hooks attached (they may have side effects): stop at the last recorded hook.
    const discard = opts.returnType === 'none' && !this.hasHooks();
    const body = (): Out => this.runChecked(resolved, opts, flags, stop, cacheBytes, fn);
    const result = runRecording(this, recorded, flags, inclBwd ? () => this.withBackward(body, opts, fn) : body, d.nLayers, discard, inclBwd);
    if (opts.removeBatchDim === true) {
      try {
        result[1].removeBatchDim();
      } catch (err) {
        result[1].dispose();
        tf.dispose(result[0] as tf.TensorContainer);
        throw err;
      }
    }
    return result;
  }
}
