/**
 * ActivationCache: the activations recorded by `runWithCache`, keyed by hook name
 * (TransformerLens `ActivationCache`). It owns its tensors: call `dispose()` when done.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { DisposedError, HookNameError } from '../errors.js';
import { actName } from './act_name.js';
import { nearestNames } from '../utils/nearest.js';

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

  /**
   * @param entries Name → tensor, in forward order; the cache takes ownership.
   * @param nLayers Number of layers, for negative layer indices in {@link get}.
   */
  constructor(
    entries: Map<string, tf.Tensor>,
    readonly nLayers?: number,
  ) {
    this.store = entries;
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
