/**
 * A LoRA adapter (Hu et al. 2021, PEFT's `LoraLayer`): for each adapted linear, A [r, in] and
 * B [out, r] with the update W' = W + s·B·A (s = alpha/r, or alpha/√r with rsLoRA), plus whole
 * copies of the `modules_to_save` linears (e.g. the classifier head). Weights here are [in, out],
 * so the update of W [in, out] is s·Aᵀ·Bᵀ. {@link applyAdapter} is the one place it is computed:
 * the hooked forward (unmerged), merging and fine-tuning all use it.
 */
import * as tf from '@tensorflow/tfjs-core';
import { loraScaling, type PeftLoraConfig } from './peft_config.js';
import type { ModelWeights, WeightEditor } from './linear_slots.js';

/** LoRA factors of one linear module. @category Model */
export interface LoraFactors {
  /** lora_A [r, in]. */
  readonly A: tf.Tensor2D;
  /** lora_B [out, r]. */
  readonly B: tf.Tensor2D;
}

/** A saved whole linear (`modules_to_save`): weight [in, out] and bias [out] when the module has one. @category Model */
export interface SavedLinear {
  /** Weight [in, out]. */
  readonly W: tf.Tensor2D;
  /** Bias [out], or undefined. */
  readonly b: tf.Tensor1D | undefined;
}

/**
 * A LoRA adapter: its PEFT config, the factors of each adapted module and the saved modules, keyed
 * by HF module path. Owns its tensors ({@link LoraAdapter.dispose}).
 * @category Model
 */
export class LoraAdapter {
  /**
   * @param config PEFT adapter_config.json.
   * @param lora Factors by module path (ownership passes to the adapter).
   * @param saved Whole modules by path (ownership passes to the adapter).
   */
  constructor(
    /** PEFT adapter_config.json. */
    readonly config: PeftLoraConfig,
    /** Factors by HF module path. */
    readonly lora: ReadonlyMap<string, LoraFactors>,
    /** `modules_to_save` linears by HF module path. */
    readonly saved: ReadonlyMap<string, SavedLinear>,
  ) {}

  /** s = alpha / r (alpha / √r with use_rslora). */
  get scaling(): number {
    return loraScaling(this.config);
  }

  /** Number of trainable values (A, B and the saved modules). */
  get numParameters(): number {
    let n = 0;
    for (const f of this.lora.values()) n += f.A.size + f.B.size;
    for (const s of this.saved.values()) n += s.W.size + (s.b?.size ?? 0);
    return n;
  }

  /** Every tensor the adapter owns. */
  tensors(): tf.Tensor[] {
    const out: tf.Tensor[] = [];
    for (const f of this.lora.values()) out.push(f.A, f.B);
    for (const s of this.saved.values()) out.push(s.W, ...(s.b === undefined ? [] : [s.b]));
    return out;
  }

  /** Free the adapter's tensors. */
  dispose(): void {
    for (const t of this.tensors()) t.dispose();
  }
}

/** What {@link applyAdapter} adds: the adapter's tensors and, optionally, a dropout mask per module. */
export interface AdapterTensors {
  /** Factors by module path (tensors or variables). */
  readonly lora: ReadonlyMap<string, LoraFactors>;
  /** Whole modules by path. */
  readonly saved: ReadonlyMap<string, SavedLinear>;
  /** s. */
  readonly scaling: number;
  /**
   * Training only: a 0 / (1−p)⁻¹ mask [in] per module on A's input features (LoRA dropout, one
   * draw per step shared by every token: an approximation of PEFT's per-element dropout of x).
   */
  readonly inputMask?: ReadonlyMap<string, tf.Tensor1D>;
}

/**
 * Weights with an adapter applied: W + s·Aᵀ·Bᵀ for each adapted module, the saved copy for each
 * module to save, every other tensor shared. Differentiable in A, B and the saved tensors.
 * @param editor Editor over the base weights.
 * @param a The adapter's tensors.
 * @returns New weights; the new tensors are the adapted weights only (`adaptedTensors` lists them).
 * @category Model
 */
export function applyAdapter<P>(editor: WeightEditor<P>, a: AdapterTensors): ModelWeights<P> {
  for (const s of editor.slots) {
    const f = a.lora.get(s.path);
    const saved = a.saved.get(s.path);
    if (saved !== undefined) s.set(saved.W, saved.b);
    if (f === undefined) continue;
    const base = s.W;
    const delta = tf.tidy(() => {
      const mask = a.inputMask?.get(s.path);
      const A = mask === undefined ? f.A : tf.mul<tf.Tensor2D>(f.A, tf.expandDims(mask, 0)); // [r, in]
      return tf.mul<tf.Tensor2D>(tf.matMul(A, f.B, true, true), a.scaling); // Aᵀ·Bᵀ: [in, r]·[r, out] = [in, out]
    });
    s.set(tf.add<tf.Tensor2D>(base, delta));
    delta.dispose();
  }
  return editor.build();
}

/**
 * The tensors {@link applyAdapter} created (the adapted weights), to free after a run.
 * @param editor The editor after {@link applyAdapter}.
 * @param a The adapter's tensors.
 * @returns The adapted weights [in, out].
 */
export function adaptedTensors<P>(editor: WeightEditor<P>, a: Pick<AdapterTensors, 'lora'>): tf.Tensor[] {
  return editor.slots.filter((s) => a.lora.has(s.path)).map((s) => s.W);
}
