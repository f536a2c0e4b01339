/**
 * The adapter state of one hooked model (PEFT's `PeftModel` around a base model): at most one LoRA
 * adapter, unmerged (each forward computes with W + s·B·A, base weights untouched) or merged into
 * the base weights (`merge_and_unload`, the replaced originals kept so that unmerging restores them
 * bit for bit). The model class owns one and calls {@link AdapterHost.runWeights} in its forward.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { ConfigError } from '../../errors.js';
import type { LinearSlot, ModelWeights, WeightEditor } from './linear_slots.js';
import { adaptedTensors, applyAdapter, LoraAdapter, type SavedLinear } from './lora_adapter.js';
import { readPeftAdapter, writePeftAdapter } from './peft_io.js';

/** How a host reads and replaces its model's weights. @category Model */
export interface WeightAccess<P> {
  /** The model's current weights. */
  get(): ModelWeights<P>;
  /** Install new weights (the host frees what it replaced). */
  set(w: ModelWeights<P>): void;
  /** An editor over weights (family-specific slot table). */
  editor(w: ModelWeights<P>): WeightEditor<P>;
  /** Every tensor of weights (for parameter counts and disposal). */
  tensors(w: ModelWeights<P>): tf.Tensor[];
}

/** Weights for one run and how to free what was built for it. @category Model */
export interface RunWeights<P> {
  /** The weights to run with. */
  readonly weights: ModelWeights<P>;
  /** Free the tensors built for this run (none without an unmerged adapter). */
  release(): void;
}

/**
 * A model's adapter: load, attach, merge, unmerge, save.
 * @category Model
 */
export class AdapterHost<P> {
  private current: LoraAdapter | undefined;
  private originals: Map<string, SavedLinear> | undefined;

  /** @param access How to read and replace the model's weights. */
  constructor(private readonly access: WeightAccess<P>) {}

  /** The attached adapter, or undefined. */
  get adapter(): LoraAdapter | undefined {
    return this.current;
  }

  /** Whether the attached adapter is merged into the base weights. */
  get merged(): boolean {
    return this.originals !== undefined;
  }

  /** The model's base weights (merged ones while an adapter is merged; never the unmerged adapter's). */
  baseWeights(): ModelWeights<P> {
    return this.access.get();
  }

  /** A fresh editor over weights (one per use: it holds the replacements made). */
  editor(w: ModelWeights<P>): WeightEditor<P> {
    return this.access.editor(w);
  }

  /** Every tensor of weights, each once. */
  tensors(w: ModelWeights<P>): tf.Tensor[] {
    return [...new Set(this.access.tensors(w))];
  }

  /** The model's linear modules under HF module paths. */
  slots(): readonly LinearSlot[] {
    return this.access.editor(this.access.get()).slots;
  }

  /** The model's weights for a forward pass: with the adapter applied when it is attached and unmerged. */
  runWeights(): RunWeights<P> {
    const w = this.access.get();
    const a = this.current;
    if (a === undefined || this.originals !== undefined) return { weights: w, release: () => undefined };
    const editor = this.access.editor(w);
    const weights = applyAdapter(editor, { lora: a.lora, saved: a.saved, scaling: a.scaling });
    const built = adaptedTensors(editor, a);
    return { weights, release: () => built.forEach((t) => t.dispose()) };
  }

  /**
   * Read a PEFT LoRA folder and attach it (unmerged), replacing any attached adapter.
   * @param dir Adapter folder.
   * @returns The adapter.
   * @throws As {@link readPeftAdapter}; {@link "tfjs-lens"!ConfigError} while an adapter is merged.
   */
  async load(dir: string): Promise<LoraAdapter> {
    this.checkUnmerged('loadAdapter');
    const a = await readPeftAdapter(dir, this.slots());
    this.attach(a);
    return a;
  }

  /**
   * Attach an adapter (unmerged); the host takes ownership and frees the previous one.
   * @throws {@link "tfjs-lens"!ConfigError} while an adapter is merged.
   */
  attach(a: LoraAdapter): void {
    this.checkUnmerged('attachAdapter');
    if (this.current !== a) this.current?.dispose();
    this.current = a;
  }

  /** Detach and free the adapter (unmerged only). @throws {@link "tfjs-lens"!ConfigError} while merged. */
  remove(): void {
    this.checkUnmerged('removeAdapter');
    this.current?.dispose();
    this.current = undefined;
  }

  /** Merge the attached adapter into the base weights (W ← W + s·B·A; saved modules replace the base ones). */
  merge(): void {
    const a = this.need('mergeAdapter');
    if (this.originals !== undefined) return;
    const w = this.access.get();
    const editor = this.access.editor(w);
    const originals = new Map<string, SavedLinear>();
    for (const s of editor.slots) {
      if (a.lora.has(s.path) || a.saved.has(s.path)) originals.set(s.path, { W: s.W, b: s.b });
    }
    const merged = applyAdapter(editor, { lora: a.lora, saved: a.saved, scaling: a.scaling });
    // Saved modules are copied so that the adapter and the model never share a tensor.
    const copy = this.access.editor(merged);
    for (const s of copy.slots) {
      const saved = a.saved.get(s.path);
      if (saved !== undefined) s.set(saved.W.clone(), saved.b?.clone());
    }
    this.access.set(copy.build());
    this.originals = originals;
  }

  /** Restore the base weights kept by {@link AdapterHost.merge} (bit-identical); the adapter stays attached, unmerged. */
  unmerge(): void {
    this.need('unmergeAdapter');
    const originals = this.originals;
    if (originals === undefined) return;
    const editor = this.access.editor(this.access.get());
    const dropped: tf.Tensor[] = [];
    for (const s of editor.slots) {
      const o = originals.get(s.path);
      if (o === undefined) continue;
      dropped.push(s.W, ...(s.b !== undefined && s.b !== o.b ? [s.b] : []));
      s.set(o.W, o.b);
    }
    this.access.set(editor.build());
    for (const t of dropped) t.dispose();
    this.originals = undefined;
  }

  /**
   * Write the attached adapter as a PEFT folder.
   * @param dir Output folder.
   * @returns The folder.
   * @throws {@link "tfjs-lens"!ConfigError} without an adapter.
   */
  save(dir: string): Promise<string> {
    return writePeftAdapter(dir, this.need('saveAdapter'));
  }

  /**
   * Replace the base weights (full fine-tuning); the old ones are freed.
   * @throws {@link "tfjs-lens"!ConfigError} while an adapter is merged.
   */
  replaceBase(w: ModelWeights<P>): void {
    this.checkUnmerged('replaceBase');
    const old = new Set(this.access.tensors(this.access.get()));
    for (const t of this.access.tensors(w)) old.delete(t);
    this.access.set(w);
    for (const t of old) t.dispose();
  }

  /** Free the adapter and any kept originals (the model frees its own weights). */
  dispose(): void {
    if (this.originals !== undefined) {
      for (const o of this.originals.values()) {
        o.W.dispose();
        o.b?.dispose();
      }
    }
    this.originals = undefined;
    this.current?.dispose();
    this.current = undefined;
  }

  private need(fn: string): LoraAdapter {
    if (this.current === undefined) throw new ConfigError(`${fn}: no adapter is attached (call loadAdapter(dir) first)`);
    return this.current;
  }

  private checkUnmerged(fn: string): void {
    if (this.originals !== undefined) throw new ConfigError(`${fn}: the adapter is merged into the base weights; call unmergeAdapter() first`);
  }
}
