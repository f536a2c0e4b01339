/**
 * PEFT's LoRA `adapter_config.json` (huggingface/peft 0.11 `LoraConfig`), typed as written on disk
 * (snake_case), with the rules PEFT applies to it: the scaling alpha/r (alpha/√r with `use_rslora`),
 * which modules `target_modules` selects (`check_target_module_exists`: a regex string must match
 * the whole module path; a list matches a path equal to an entry or ending in `.<entry>`), and
 * which modules `modules_to_save` copies (`_set_trainable`: a module path ending in an entry).
 */
import { ConfigError } from '../../errors.js';

/** `adapter_config.json` of a PEFT LoRA adapter (PEFT 0.11 keys, on-disk names). @category Model */
export interface PeftLoraConfig {
  /** Always 'LORA' here. */
  readonly peft_type: string;
  /** PEFT task, e.g. 'SEQ_CLS' (null when absent). */
  readonly task_type: string | null;
  /** Rank r of every adapted module. */
  readonly r: number;
  /** lora_alpha: the update is scaled by alpha / r (alpha / √r with use_rslora). */
  readonly lora_alpha: number;
  /** Dropout on the adapter's input during training. */
  readonly lora_dropout: number;
  /** Module-name suffixes, or one regex string matched against the whole module path. */
  readonly target_modules: readonly string[] | string | null;
  /** Modules trained and saved whole (e.g. the classifier head); null for none. */
  readonly modules_to_save: readonly string[] | null;
  /** Rank-stabilised scaling alpha / √r (Kalajdzievski 2023). */
  readonly use_rslora: boolean;
  /** Only 'none' is supported. */
  readonly bias: string;
  /** True for Conv1D-style [in, out] weights (GPT-2); only false is supported. */
  readonly fan_in_fan_out: boolean;
  /** Base model the adapter was trained on. */
  readonly base_model_name_or_path: string | null;
  /** Any other PEFT key, kept as read and written back. */
  readonly [key: string]: unknown;
}

/** PEFT 0.11's defaults for the keys a saved adapter_config.json always has. */
const PEFT_DEFAULTS: Readonly<Record<string, unknown>> = {
  alpha_pattern: {}, auto_mapping: null, base_model_name_or_path: null, bias: 'none', fan_in_fan_out: false,
  inference_mode: true, init_lora_weights: true, layer_replication: null, layers_pattern: null, layers_to_transform: null,
  loftq_config: {}, lora_alpha: 8, lora_dropout: 0.0, megatron_config: null, megatron_core: 'megatron.core',
  modules_to_save: null, peft_type: 'LORA', r: 8, rank_pattern: {}, revision: null, target_modules: null,
  task_type: null, use_dora: false, use_rslora: false,
};

/** Options of {@link makePeftLoraConfig} (camelCase; written with PEFT's names). @category Model */
export interface LoraOptions {
  /** Rank (default 8). */
  readonly r?: number;
  /** lora_alpha (default 8). */
  readonly alpha?: number;
  /** lora_dropout (default 0). */
  readonly dropout?: number;
  /** Module-name suffixes (e.g. ['query', 'value'], ['q_proj', 'v_proj']) or a regex string over module paths. */
  readonly targetModules: readonly string[] | string;
  /** Modules trained and saved whole (default for sequence classification: ['classifier', 'score'], as PEFT's SEQ_CLS). */
  readonly modulesToSave?: readonly string[] | null;
  /** Scaling alpha/√r instead of alpha/r (default false). */
  readonly rslora?: boolean;
}

/**
 * A complete PEFT 0.11 adapter_config.json for new LoRA options.
 * @param o Rank, alpha, dropout, targets, modules to save, rslora.
 * @param base base_model_name_or_path (null when unknown).
 * @param taskType PEFT task_type (default 'SEQ_CLS').
 * @returns The config, every PEFT key present.
 * @throws {@link "tfjs-lens"!ConfigError} for a rank that is not a positive integer, a non-finite alpha or a dropout outside [0, 1).
 * @example makePeftLoraConfig({ r: 8, targetModules: ['query', 'value'] }, 'roberta-base')
 * @category Model
 */
export function makePeftLoraConfig(o: LoraOptions, base: string | null = null, taskType: string | null = 'SEQ_CLS'): PeftLoraConfig {
  const cfg = {
    ...PEFT_DEFAULTS, base_model_name_or_path: base, lora_alpha: o.alpha ?? 8, lora_dropout: o.dropout ?? 0,
    modules_to_save: o.modulesToSave === undefined ? ['classifier', 'score'] : o.modulesToSave, r: o.r ?? 8,
    target_modules: typeof o.targetModules === 'string' ? o.targetModules : [...o.targetModules], task_type: taskType, use_rslora: o.rslora ?? false,
  } as PeftLoraConfig;
  return checkPeftLoraConfig(cfg, 'makePeftLoraConfig');
}

type FieldType = 'string' | 'number' | 'boolean' | 'null' | 'string[]' | 'object';

/** JSON types each typed key may have (PEFT 0.11 `LoraConfig` field types). */
const FIELD_TYPES: Readonly<Record<string, readonly FieldType[]>> = {
  peft_type: ['string'], task_type: ['string', 'null'], r: ['number'], lora_alpha: ['number'], lora_dropout: ['number'],
  target_modules: ['null', 'string', 'string[]'], modules_to_save: ['null', 'string[]'], use_rslora: ['boolean'], bias: ['string'],
  fan_in_fan_out: ['boolean'], base_model_name_or_path: ['string', 'null'], use_dora: ['boolean'], rank_pattern: ['object', 'null'], alpha_pattern: ['object', 'null'],
};

function hasType(v: unknown, t: FieldType): boolean {
  if (t === 'null') return v === null;
  if (t === 'string[]') return Array.isArray(v) && v.every((x) => typeof x === 'string');
  if (t === 'object') return v !== null && typeof v === 'object' && !Array.isArray(v);
  return typeof v === t;
}

function describeJson(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return `an array (${JSON.stringify(v).slice(0, 60)})`;
  return `${typeof v} ${JSON.stringify(v)?.slice(0, 60) ?? String(v)}`;
}

/** The JSON type of every typed key, and a `target_modules` regex that compiles. */
function checkFieldTypes(c: Record<string, unknown>, fn: string): void {
  for (const [k, types] of Object.entries(FIELD_TYPES)) {
    const v = c[k];
    if (!types.some((t) => hasType(v, t))) throw new ConfigError(`${fn}: adapter_config.json field ${k} must be ${types.join(' or ')}, got ${describeJson(v)}`);
  }
  const t = c['target_modules'];
  if (typeof t === 'string') {
    try {
      new RegExp(`^(?:${t})$`);
    } catch (err) {
      throw new ConfigError(`${fn}: adapter_config.json field target_modules is not a valid regular expression (${JSON.stringify(t)}): ${(err as Error).message}`);
    }
  }
}

/**
 * Check a parsed adapter_config.json and fill PEFT's defaults for absent keys.
 * @param raw The parsed JSON.
 * @param fn Caller name for errors.
 * @returns The config.
 * @throws {@link "tfjs-lens"!ConfigError} for a field of the wrong JSON type (naming the field and the
 *   expected type), a target_modules regex that does not compile, a peft_type other than LORA and for
 *   features not supported (bias other than 'none', fan_in_fan_out, DoRA, rank/alpha patterns, layers_to_transform).
 */
export function checkPeftLoraConfig(raw: Record<string, unknown>, fn: string): PeftLoraConfig {
  checkFieldTypes({ ...PEFT_DEFAULTS, ...raw }, fn);
  const c = { ...PEFT_DEFAULTS, ...raw } as PeftLoraConfig;
  if (c.peft_type !== 'LORA') throw new ConfigError(`${fn}: peft_type '${String(c.peft_type)}' is not supported — only LoRA adapters (peft_type "LORA") load`);
  if (!(Number.isInteger(c.r) && c.r > 0)) throw new ConfigError(`${fn}: r must be a positive integer, got ${String(c.r)}`);
  if (!Number.isFinite(c.lora_alpha)) throw new ConfigError(`${fn}: lora_alpha must be a finite number, got ${String(c.lora_alpha)}`);
  if (!(c.lora_dropout >= 0 && c.lora_dropout < 1)) throw new ConfigError(`${fn}: lora_dropout must be in [0, 1), got ${String(c.lora_dropout)}`);
  const unsupported: string[] = [];
  if (c.bias !== 'none') unsupported.push(`bias '${c.bias}' (only 'none')`);
  if (c.fan_in_fan_out) unsupported.push('fan_in_fan_out true (Conv1D weights)');
  if (c['use_dora'] === true) unsupported.push('use_dora (DoRA)');
  for (const k of ['rank_pattern', 'alpha_pattern']) {
    const v = c[k];
    if (v !== null && typeof v === 'object' && Object.keys(v).length > 0) unsupported.push(`a non-empty ${k}`);
  }
  if (c['layers_to_transform'] !== null) unsupported.push('layers_to_transform');
  if (unsupported.length > 0) throw new ConfigError(`${fn}: this LoRA adapter uses ${unsupported.join(', ')}, which tfjs-lens does not support`);
  if (c.target_modules === null || (typeof c.target_modules !== 'string' && c.target_modules.length === 0)) {
    if (c.modules_to_save === null || c.modules_to_save.length === 0) throw new ConfigError(`${fn}: target_modules is empty and nothing is in modules_to_save`);
  }
  return c;
}

/**
 * The factor of B·A: alpha / r, or alpha / √r with use_rslora (PEFT `LoraLayer.update_layer`).
 * @param c The config.
 * @returns The scaling.
 * @example loraScaling({ ...cfg, r: 4, lora_alpha: 8 })  // 2
 * @category Model
 */
export function loraScaling(c: Pick<PeftLoraConfig, 'r' | 'lora_alpha' | 'use_rslora'>): number {
  return c.use_rslora ? c.lora_alpha / Math.sqrt(c.r) : c.lora_alpha / c.r;
}

/**
 * Whether `target_modules` selects a module (PEFT `check_target_module_exists`).
 * @param path Module path, e.g. 'roberta.encoder.layer.0.attention.self.query'.
 * @param targets The config's target_modules.
 * @returns True when the module gets a LoRA update.
 */
export function isTargetModule(path: string, targets: PeftLoraConfig['target_modules']): boolean {
  if (targets === null) return false;
  if (typeof targets === 'string') return new RegExp(`^(?:${targets})$`).test(path);
  return targets.some((t) => path === t || path.endsWith(`.${t}`));
}

/**
 * Whether `modules_to_save` copies a linear module: its path, or the path of a module containing
 * it, ends with an entry (PEFT `_set_trainable` uses a plain `endswith`, so 'classifier' also
 * selects DistilBERT's `pre_classifier`).
 * @param path Path of a linear module.
 * @param toSave The config's modules_to_save.
 * @returns True when the module is saved whole.
 */
export function isModuleToSave(path: string, toSave: readonly string[] | null): boolean {
  if (toSave === null) return false;
  const parts = path.split('.');
  for (let i = parts.length; i > 0; i--) {
    const p = parts.slice(0, i).join('.');
    if (toSave.some((s) => p.endsWith(s))) return true;
  }
  return false;
}
