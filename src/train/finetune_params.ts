/**
 * The trainable parameters of {@link finetuneClassifier}: for 'lora', LoRA factors (A
 * kaiming-uniform as PEFT, bound 1/√in; B zeros, so training starts at the base model) and copies of
 * the `modules_to_save` linears; for 'head', copies of the head's linears; for 'full', every weight.
 * All are tf.Variables; the base tensors are never assigned to.
 */
import { tfjsSeed } from '../utils/rng.js';
import * as tf from '@tensorflow/tfjs-core';
import type { AdapterHost } from '../model/lora/adapter_host.js';
import type { ModelWeights } from '../model/lora/linear_slots.js';
import { applyAdapter, LoraAdapter, type LoraFactors, type SavedLinear } from '../model/lora/lora_adapter.js';
import { isModuleToSave, loraScaling, makePeftLoraConfig, type PeftLoraConfig } from '../model/lora/peft_config.js';
import { targetedSlots } from '../model/lora/peft_io.js';

/** LoRA options of {@link finetuneClassifier} (PEFT `LoraConfig` names in camelCase). @category Training */
export interface FinetuneLoraOptions {
  /** Rank (default 8). */
  readonly r?: number;
  /** lora_alpha (default 16). */
  readonly alpha?: number;
  /** lora_dropout (default 0.1). */
  readonly dropout?: number;
  /** Module-name suffixes or a regex over module paths (default: the attention query and value projections). */
  readonly targetModules?: readonly string[] | string;
  /** Modules trained and saved whole (default ['classifier', 'score'], PEFT's SEQ_CLS default). */
  readonly modulesToSave?: readonly string[];
  /** Scaling alpha/√r (default false). */
  readonly rslora?: boolean;
}

/** Trainable variables and the weights they give. */
export interface Trainables {
  /** Variables the optimiser updates. */
  readonly variables: tf.Variable[];
  /** Weights for a forward pass (call inside a tidy / loss closure); dropoutSeed undefined = no dropout. */
  weights(dropoutSeed: number | undefined): ModelWeights<unknown>;
  /** Put the trained values into the model (an attached adapter, or new base weights for 'full'). */
  install(): void;
  /** Number of values of the tensors the trained model computes with (base + adapter − replaced modules). */
  readonly replacedSize: number;
  /** Free the variables. */
  dispose(): void;
}

/** PEFT's default LoRA targets (TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING): the query and value projections. */
const DEFAULT_TARGETS: Readonly<Record<string, readonly string[]>> = {
  bert: ['query', 'value'], roberta: ['query', 'value'], distilbert: ['q_lin', 'v_lin'], llama: ['q_proj', 'v_proj'], mistral: ['q_proj', 'v_proj'], qwen2: ['q_proj', 'v_proj'],
};

let runCounter = 0;

type Tree = tf.Tensor | readonly Tree[] | { readonly [k: string]: Tree } | string | number | boolean | undefined | null;

/** Copy a plain tree, mapping each tensor once (shared tensors stay shared). */
function mapTree(x: Tree, f: (t: tf.Tensor) => tf.Tensor, seen = new Map<tf.Tensor, tf.Tensor>()): Tree {
  if (x instanceof tf.Tensor) {
    const done = seen.get(x) ?? f(x);
    seen.set(x, done);
    return done;
  }
  if (Array.isArray(x)) return x.map((v: Tree) => mapTree(v, f, seen));
  if (x !== null && typeof x === 'object') return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, mapTree(v as Tree, f, seen)]));
  return x;
}

function fullTrainables(host: AdapterHost<unknown>, prefix: string): Trainables {
  const variables: tf.Variable[] = [];
  const base = host.baseWeights();
  let i = 0;
  const vars = mapTree(base as unknown as Tree, (t) => {
    const v = tf.variable(t, true, `${prefix}/w${i++}`);
    variables.push(v);
    return v;
  }) as unknown as ModelWeights<unknown>;
  return {
    variables, replacedSize: 0,
    weights: () => vars,
    install: () => host.replaceBase(mapTree(vars as unknown as Tree, (t) => tf.clone(t)) as unknown as ModelWeights<unknown>),
    dispose: () => variables.forEach((v) => v.dispose()),
  };
}

/**
 * Build the trainables of a mode.
 * @param host The model's adapter host.
 * @param mode 'full', 'head' or 'lora'.
 * @param lo LoRA options.
 * @param modelType config model_type (default LoRA targets).
 * @param seed Initialisation seed.
 * @returns The trainables.
 * @throws {@link "tfjs-lens"!ConfigError} for LoRA targets that select nothing.
 */
export function buildTrainables(host: AdapterHost<unknown>, mode: 'full' | 'head' | 'lora', lo: FinetuneLoraOptions, modelType: string, seed: number): Trainables {
  const prefix = `finetune${runCounter++}`;
  if (mode === 'full') return fullTrainables(host, prefix);
  const slots = host.slots();
  const headPaths = slots.filter((s) => s.head).map((s) => s.path);
  const config: PeftLoraConfig = mode === 'head'
    ? makePeftLoraConfig({ r: 8, targetModules: [], modulesToSave: headPaths })
    : makePeftLoraConfig({ r: lo.r ?? 8, alpha: lo.alpha ?? 16, dropout: lo.dropout ?? 0.1, targetModules: lo.targetModules ?? DEFAULT_TARGETS[modelType] ?? [], modulesToSave: lo.modulesToSave ?? ['classifier', 'score'], rslora: lo.rslora ?? false });
  const variables: tf.Variable[] = [];
  const v = <T extends tf.Tensor>(t: T, name: string): T => {
    const x = tf.variable(t, true, `${prefix}/${name}`);
    t.dispose(); // the variable keeps the values
    variables.push(x);
    return x as unknown as T;
  };
  const lora = new Map<string, LoraFactors>();
  if (mode === 'lora') {
    targetedSlots('finetuneClassifier', config, slots).forEach((s, i) => {
      const [inDim, outDim] = s.W.shape;
      const bound = 1 / Math.sqrt(inDim);
      lora.set(s.path, { A: v(tf.randomUniform([config.r, inDim], -bound, bound, 'float32', tfjsSeed(seed * 7919 + i)), `${s.path}.lora_A`), B: v(tf.zeros([outDim, config.r]), `${s.path}.lora_B`) });
    });
  }
  const saved = new Map<string, SavedLinear>();
  let replacedSize = 0;
  for (const s of slots.filter((x) => isModuleToSave(x.path, config.modules_to_save) && !lora.has(x.path))) {
    saved.set(s.path, { W: v(tf.clone(s.W), `${s.path}.weight`), b: s.b === undefined ? undefined : v(tf.clone(s.b), `${s.path}.bias`) });
    replacedSize += s.W.size + (s.b?.size ?? 0);
  }
  const scaling = loraScaling(config);
  const p = config.lora_dropout;
  return {
    variables, replacedSize,
    weights: (dropoutSeed) => {
      const inputMask = dropoutSeed === undefined || p === 0 ? undefined : new Map([...lora].map(([path, f], i) => [
        path, tf.div<tf.Tensor1D>(tf.cast(tf.greaterEqual(tf.randomUniform([f.A.shape[1]], 0, 1, 'float32', tfjsSeed(dropoutSeed * 131 + i)), p), 'float32'), 1 - p),
      ]));
      return applyAdapter(host.editor(host.baseWeights()), { lora, saved, scaling, ...(inputMask === undefined ? {} : { inputMask }) });
    },
    install: () => {
      const copyLora = new Map([...lora].map(([k, f]) => [k, { A: tf.clone(f.A), B: tf.clone(f.B) }]));
      const copySaved = new Map([...saved].map(([k, s]) => [k, { W: tf.clone(s.W), b: s.b === undefined ? undefined : tf.clone(s.b) }]));
      host.attach(new LoraAdapter(config, copyLora, copySaved));
    },
    dispose: () => variables.forEach((x) => x.dispose()),
  };
}

/**
 * Trainable and total parameter counts (PEFT `print_trainable_parameters`, the head counted once).
 * @param host The model's adapter host.
 * @param t The trainables.
 * @returns { trainable, total }.
 */
export function countParameters(host: AdapterHost<unknown>, t: Trainables): { trainable: number; total: number } {
  const base = host.tensors(host.baseWeights()).reduce((a, x) => a + x.size, 0);
  const trainable = t.variables.reduce((a, x) => a + x.size, 0);
  const inFull = t.replacedSize === 0 && t.variables.length > 0 && trainable === base;
  return { trainable, total: inFull ? base : base + trainable - t.replacedSize };
}
