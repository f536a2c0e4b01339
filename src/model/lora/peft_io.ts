/**
 * PEFT's adapter folder (`save_pretrained` of a `PeftModel`, PEFT 0.11): `adapter_config.json` and
 * `adapter_model.safetensors` with tensors named `base_model.model.<module path>.lora_A.weight`
 * [r, in], `.lora_B.weight` [out, r], and each `modules_to_save` module's own parameters as
 * `base_model.model.<module path>.weight` [out, in] / `.bias` (PEFT strips `modules_to_save.default`).
 * Reading checks every name against the model's modules and every shape against its weights.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, WeightLoadError } from '../../errors.js';
import { readJsonFile } from '../../io/checkpoint.js';
import { readSafetensorsFile, writeSafetensorsFile, type RawTensor, type TensorToWrite } from '../../io/safetensors.js';
import { nearestNames } from '../../utils/nearest.js';
import { f32 } from '../weights/common.js';
import type { LinearSlot } from './linear_slots.js';
import { LoraAdapter, type LoraFactors, type SavedLinear } from './lora_adapter.js';
import { checkPeftLoraConfig, isModuleToSave } from './peft_config.js';
import { targetedSlots } from './peft_targets.js';

export { targetedSlots } from './peft_targets.js';

/** PEFT's prefix of every tensor name. */
const PREFIX = 'base_model.model.';

function nearestPath(path: string, slots: readonly LinearSlot[]): string {
  return nearestNames(path, slots.map((s) => s.path), 1)[0] ?? '(none)';
}

function shapeOf(t: RawTensor): string {
  return `[${t.shape.join(', ')}]`;
}

function expectShape(fn: string, name: string, t: RawTensor, shape: readonly number[]): void {
  if (t.shape.length !== shape.length || t.shape.some((s, i) => s !== shape[i])) {
    throw new WeightLoadError(`${fn}: tensor '${name}' has shape ${shapeOf(t)}, expected [${shape.join(', ')}] for this model's module`);
  }
}

/** Split a tensor name into module path and what follows. */
function parseName(fn: string, name: string): { path: string; kind: 'A' | 'B' | 'weight' | 'bias' } {
  if (!name.startsWith(PREFIX)) throw new WeightLoadError(`${fn}: tensor '${name}' does not start with '${PREFIX}' (not a PEFT adapter file)`);
  const rest = name.slice(PREFIX.length);
  const m = /^(.*)\.(lora_A|lora_B)(?:\.default)?\.weight$/.exec(rest);
  if (m !== null) return { path: m[1] as string, kind: m[2] === 'lora_A' ? 'A' : 'B' };
  const w = /^(.*)\.(weight|bias)$/.exec(rest);
  if (w === null || /\.(lora_\w+|lora_magnitude_vector)/.test(rest)) throw new ConfigError(`${fn}: tensor '${name}' is not a LoRA factor or a module-to-save parameter (LoRA embeddings and DoRA are not supported)`);
  return { path: w[1] as string, kind: w[2] as 'weight' | 'bias' };
}

/**
 * Read a PEFT LoRA adapter folder for a model.
 * @param dir Folder with adapter_config.json and adapter_model.safetensors.
 * @param slots The model's linear modules ({@link encoderEditor} / {@link decoderEditor}).
 * @returns The adapter (the caller owns its tensors).
 * @throws {@link "tfjs-lens"!ConfigError} for an unsupported peft_type or option, or a module the
 *   model does not have (naming the nearest module path); {@link "tfjs-lens"!WeightLoadError} for a
 *   tensor of the wrong shape (naming it and both shapes) or a missing factor;
 *   {@link "tfjs-lens"!NotFoundError} for a missing file.
 * @category Model
 */
export async function readPeftAdapter(dir: string, slots: readonly LinearSlot[]): Promise<LoraAdapter> {
  const fn = 'loadAdapter';
  const config = checkPeftLoraConfig(await readJsonFile<Record<string, unknown>>(join(dir, 'adapter_config.json'), 'adapter config'), fn);
  const { tensors } = await readSafetensorsFile(join(dir, 'adapter_model.safetensors'));
  const byPath = new Map(slots.map((s) => [s.path, s]));
  const targeted = new Set(targetedSlots(fn, config, slots).map((s) => s.path));
  const factors = new Map<string, { A?: RawTensor; B?: RawTensor }>();
  const saved = new Map<string, { weight?: RawTensor; bias?: RawTensor }>();
  for (const [name, t] of tensors) {
    const { path, kind } = parseName(fn, name);
    const s = byPath.get(path);
    if (s === undefined) throw new ConfigError(`${fn}: tensor '${name}' refers to module '${path}', which this model does not have; nearest module path: '${nearestPath(path, slots)}'`);
    const [inDim, outDim] = s.W.shape;
    if (kind === 'A' || kind === 'B') {
      expectShape(fn, name, t, kind === 'A' ? [config.r, inDim] : [outDim, config.r]);
      factors.set(path, { ...factors.get(path), [kind]: t });
    } else {
      if (!isModuleToSave(path, config.modules_to_save)) throw new ConfigError(`${fn}: tensor '${name}' is a whole-module parameter but '${path}' is not in modules_to_save ${JSON.stringify(config.modules_to_save)}`);
      if (kind === 'bias' && s.b === undefined) throw new WeightLoadError(`${fn}: tensor '${name}': module '${path}' has no bias in this model`);
      expectShape(fn, name, t, kind === 'weight' ? [outDim, inDim] : [outDim]);
      saved.set(path, { ...saved.get(path), [kind]: t });
    }
  }
  for (const p of targeted) {
    const f = factors.get(p);
    if (f?.A === undefined || f.B === undefined) throw new WeightLoadError(`${fn}: target module '${p}' lacks ${f?.A === undefined ? 'lora_A' : 'lora_B'} (${PREFIX}${p}.${f?.A === undefined ? 'lora_A' : 'lora_B'}.weight)`);
  }
  for (const p of factors.keys()) {
    if (!targeted.has(p)) throw new ConfigError(`${fn}: the file has LoRA factors for '${p}', which target_modules ${JSON.stringify(config.target_modules)} does not select`);
  }
  const lora = new Map<string, LoraFactors>();
  const whole = new Map<string, SavedLinear>();
  for (const [p, f] of factors) lora.set(p, { A: toT2(f.A as RawTensor), B: toT2(f.B as RawTensor) });
  for (const [p, w] of saved) {
    const s = byPath.get(p) as LinearSlot;
    whole.set(p, {
      W: w.weight === undefined ? tf.clone(s.W) : tf.tidy(() => tf.transpose(toT2(w.weight as RawTensor))),
      b: w.bias !== undefined ? tf.tensor1d(f32(w.bias)) : s.b === undefined ? undefined : tf.clone(s.b),
    });
  }
  return new LoraAdapter(config, lora, whole);
}

function toT2(t: RawTensor): tf.Tensor2D {
  return tf.tensor2d(f32(t), [t.shape[0] ?? 0, t.shape[1] ?? 0]);
}

/**
 * Write an adapter as PEFT's folder: adapter_config.json (every PEFT 0.11 key) and
 * adapter_model.safetensors (PEFT's tensor names; metadata format 'pt').
 * @param dir Output folder (created).
 * @param adapter The adapter.
 * @returns The folder.
 * @category Model
 */
export async function writePeftAdapter(dir: string, adapter: LoraAdapter): Promise<string> {
  const out = new Map<string, TensorToWrite>();
  const put = (name: string, t: tf.Tensor): void => void out.set(`${PREFIX}${name}`, { dtype: 'F32', shape: t.shape, data: Float32Array.from(t.dataSync()) });
  for (const [p, s] of adapter.saved) {
    if (s.b !== undefined) put(`${p}.bias`, s.b);
    const wt = tf.transpose(s.W); // [out, in]
    put(`${p}.weight`, wt);
    wt.dispose();
  }
  for (const [p, f] of adapter.lora) {
    put(`${p}.lora_A.weight`, f.A);
    put(`${p}.lora_B.weight`, f.B);
  }
  const sorted = new Map([...out].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  await mkdir(dir, { recursive: true });
  await writeSafetensorsFile(join(dir, 'adapter_model.safetensors'), sorted, { format: 'pt' });
  const cfg = Object.fromEntries(Object.entries(adapter.config).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  await writeFile(join(dir, 'adapter_config.json'), `${JSON.stringify(cfg, null, 2)}\n`);
  return dir;
}
