/**
 * ActivationCache: the activations recorded by `runWithCache`, keyed by hook name
 * (TransformerLens `ActivationCache`). It owns its tensors: call `dispose()` when done.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, DisposedError, HookNameError } from '../errors.js';
import { actName } from './act_name.js';
import { nearestNames } from '../utils/nearest.js';
import { Slice, type SliceInput } from '../utils/slice.js';

/**
 * Activations keyed by TransformerLens hook name.
 * @example
 * const [logits, cache] = model.runWithCache(tokens);
 * cache.get('blocks.0.attn.hook_pattern');   // [batch, n_heads, pos_q, pos_k]
 * cache.get('pattern', 0);                   // same, TL short name
 * cache.dispose(); logits.dispose();
 * @category Hooks
 */
export class ActivationCache {
  private store: Map<string, tf.Tensor> | undefined;
  private batchDim: boolean;

  /**
   * @param entries Name → tensor, in forward order; the cache takes ownership.
   * @param nLayers Number of layers, for negative layer indices in {@link get}.
   * @param hasBatchDim Whether every activation has a leading batch dimension (TL `has_batch_dim`).
   */
  constructor(
    entries: Map<string, tf.Tensor>,
    readonly nLayers?: number,
    hasBatchDim = true,
  ) {
    this.store = entries;
    this.batchDim = hasBatchDim;
  }

  /**
   * Whether the activations have a leading batch dimension (TL `has_batch_dim`); false after
   * {@link removeBatchDim} or an integer {@link applySliceToBatchDim}.
   */
  get hasBatchDim(): boolean {
    return this.batchDim;
  }

  /**
   * Drop the batch dimension of every activation, in place (TL `remove_batch_dim`); the old
   * tensors are freed. A second call only warns, as TL does.
   * @returns This cache (TL returns `self`), so calls chain: `cache.removeBatchDim().get('pattern', 0)`.
   * @throws {@link "tfjs-lens"!ConfigError} if some activation has batch size ≠ 1 (the cache is left unchanged).
   */
  removeBatchDim(): this {
    const store = this.live('removeBatchDim');
    if (!this.batchDim) {
      console.warn('ActivationCache.removeBatchDim: tried removing batch dimension after already having removed it');
      return this;
    }
    for (const [name, t] of store) {
      if (t.rank === 0 || t.shape[0] !== 1) {
        throw new ConfigError(
          `ActivationCache.removeBatchDim: cannot remove the batch dimension from a cache with batch size > 1 ` +
            `('${name}' has shape [${t.shape.join(', ')}]); slice one item first with applySliceToBatchDim(i)`,
        );
      }
    }
    const done = new Map<tf.Tensor, tf.Tensor>();
    for (const [name, t] of store) {
      let squeezed = done.get(t);
      if (squeezed === undefined) {
        squeezed = tf.squeeze(t, [0]); // [1, ...rest] -> [...rest]
        done.set(t, squeezed);
      }
      store.set(name, squeezed);
    }
    for (const old of done.keys()) old.dispose();
    this.batchDim = false;
    return this;
  }

  private live(fn: string): Map<string, tf.Tensor> {
    if (this.store === undefined) throw new DisposedError(`ActivationCache.${fn}: cache was disposed`);
    return this.store;
  }

  private resolve(name: string, layer?: number, layerType?: string): string {
    let l = layer;
    if (l !== undefined && l < 0 && this.nLayers !== undefined) l += this.nLayers;
    return l === undefined && (name.includes('.') || name.startsWith('hook_')) ? name : actName(name, l, layerType);
  }

  /**
   * The activation at a hook.
   * @param name Full hook name, or a TL short name (`'pattern'`, `'resid_post'`, `'k6'`).
   * @param layer Layer index for short names; negative counts from the end.
   * @param layerType Disambiguator ('ln1', 'ln2', …).
   * @returns The cached tensor (owned by the cache: do not dispose it).
   * @throws {@link "tfjs-lens"!HookNameError} if the name was not cached; {@link "tfjs-lens"!DisposedError} after dispose.
   */
  get(name: string, layer?: number, layerType?: string): tf.Tensor {
    const store = this.live('get');
    const full = this.resolve(name, layer, layerType);
    const t = store.get(full);
    if (t === undefined) {
      throw new HookNameError(
        `ActivationCache.get: '${full}' is not in the cache (nearest: ${nearestNames(full, store.keys()).join(', ')})`,
      );
    }
    return t;
  }

  /**
   * Store an activation (TL `cache_dict[name] = tensor`), e.g. computed results such as
   * `attn.hook_result`. The cache takes ownership; a tensor it replaces is freed.
   * @param name Full hook name.
   * @param tensor The activation, with the cache's batch-dimension convention.
   * @throws {@link "tfjs-lens"!DisposedError} after dispose.
   */
  set(name: string, tensor: tf.Tensor): void {
    const store = this.live('set');
    const old = store.get(name);
    store.set(name, tensor);
    if (old !== undefined && old !== tensor && ![...store.values()].includes(old)) old.dispose();
  }

  /** Whether a hook was cached. */
  has(name: string, layer?: number, layerType?: string): boolean {
    const store = this.live('has');
    try {
      return store.has(this.resolve(name, layer, layerType));
    } catch {
      return false;
    }
  }

  /** Cached hook names in forward order. */
  keys(): string[] {
    return [...this.live('keys').keys()];
  }

  /** `[name, tensor]` pairs in forward order. */
  entries(): [string, tf.Tensor][] {
    return [...this.live('entries').entries()];
  }

  /** Cached tensors in forward order (TL `values`; owned by the cache). */
  values(): tf.Tensor[] {
    return [...this.live('values').values()];
  }

  /** `[name, tensor]` pairs in forward order (TL `items`; same as {@link entries}). */
  items(): [string, tf.Tensor][] {
    return this.entries();
  }

  /** Iterate over hook names, as iterating a Python dict (TL `__iter__`). */
  [Symbol.iterator](): Iterator<string> {
    return this.keys()[Symbol.iterator]();
  }

  /**
   * A new cache holding `slice` of the batch dimension of every activation (TL
   * `apply_slice_to_batch_dim`); an integer drops the batch dimension. This cache is unchanged.
   * @param batchSlice Index, index list, range or `Slice` (`null` = everything).
   * @returns A new cache owning new tensors: dispose it too.
   * @throws {@link "tfjs-lens"!ConfigError} if the cache has no batch dimension and the slice is not the identity;
   *   {@link "tfjs-lens"!ShapeError} for a batch index out of range.
   * @example const first = cache.applySliceToBatchDim(0);  // like removeBatchDim on item 0
   */
  applySliceToBatchDim(batchSlice: SliceInput | Slice): ActivationCache {
    const store = this.live('applySliceToBatchDim');
    const s = batchSlice instanceof Slice ? batchSlice : new Slice(batchSlice);
    if (!this.batchDim && s.mode !== 'identity') {
      throw new ConfigError('ActivationCache.applySliceToBatchDim: cannot index into a cache without a batch dimension');
    }
    const out = new Map<string, tf.Tensor>();
    const done = new Map<tf.Tensor, tf.Tensor>();
    try {
      for (const [name, t] of store) {
        let sliced = done.get(t);
        if (sliced === undefined) {
          sliced = s.apply(t, 0);
          done.set(t, sliced);
        }
        out.set(name, sliced);
      }
    } catch (e) {
      for (const t of done.values()) t.dispose();
      throw e;
    }
    return new ActivationCache(out, this.nLayers, this.batchDim && s.mode !== 'int');
  }

  // TL `toggle_autodiff` is not provided: it flips torch's global grad mode, and tfjs has no such
  // global state (gradients exist only inside tf.grad / tf.variableGrads, and cached tensors never
  // hold a graph), so there is nothing to toggle.


  /** Number of cached activations. */
  get size(): number {
    return this.live('size').size;
  }

  /** Total bytes held (float32). */
  get numBytes(): number {
    let n = 0;
    for (const t of this.live('numBytes').values()) n += t.size * 4;
    return n;
  }

  /** Whether {@link dispose} was called. */
  get isDisposed(): boolean {
    return this.store === undefined;
  }

  /** Free every cached tensor. Safe to call twice. */
  dispose(): void {
    if (this.store === undefined) return;
    const seen = new Set<tf.Tensor>();
    for (const t of this.store.values()) {
      if (!seen.has(t)) {
        seen.add(t);
        t.dispose();
      }
    }
    this.store = undefined;
  }
}
