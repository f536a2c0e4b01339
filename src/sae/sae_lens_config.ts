/**
 * SAELens `cfg.json`, typed verbatim in snake_case (STYLE Convention 15), and the mapping to and from
 * {@link SaeConfig}. Field list as SAELens v6.18 writes it: `SAEConfig.to_dict()` /
 * `get_inference_sae_cfg_dict()` (`sae_lens/saes/sae.py`, `standard_sae.py`, `topk_sae.py`,
 * `jumprelu_sae.py`); pre-6.0 files are upgraded as `handle_pre_6_0_config` does.
 */
import { ConfigError } from '../errors.js';
import { closeName } from '../utils/nearest.js';
import { SAE_ARCHITECTURES, validateSaeConfig, type NormalizeActivations, type ResolvedSaeTraining, type SaeArchitecture, type SaeConfig, type SaeLensMetadata } from './config.js';

/** The SAELens version whose file format is written; SAELens reads files < 6.0 through its legacy path. @category SAE */
export const SAE_LENS_FORMAT_VERSION = '6.18.0';


/**
 * SAELens v6 `cfg.json` (inference config; checkpoints add the training fields).
 * @category SAE
 */
export interface SaeLensCfgJson {
  /** 'standard', 'topk', 'jumprelu', 'batchtopk' or 'gated' (others are rejected on read). */
  architecture: string;
  /** Input width: the hook's last dimension (n_heads·d_head for hook_z). */
  d_in: number;
  /** Number of latents. */
  d_sae: number;
  /** Stored dtype name ('float32'). */
  dtype: string;
  /** Device string ('cpu'). */
  device: string;
  /** Subtract b_dec from the input before encoding (default true). */
  apply_b_dec_to_input: boolean;
  /** Input normalisation (default 'none'). */
  normalize_activations: NormalizeActivations;
  /** 'hook_z': inputs are [..., n_heads, d_head] and are flattened (default 'none'). */
  reshape_activations: 'none' | 'hook_z';
  /** Provenance: model, hook, dataset and SAELens version. */
  metadata: SaeLensMetadata;
  /** topk and batchtopk only (batchtopk: a float, mean latents per row). */
  k?: number;
  /** topk and batchtopk only. */
  rescale_acts_by_decoder_norm?: boolean;
  /** Training fields of a checkpoint (see {@link trainingCfgFields}), kept as read. */
  [trainingField: string]: unknown;
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

const METADATA_KEYS = [
  'model_name', 'model_class_name', 'hook_name', 'hook_head_index', 'context_size', 'prepend_bos', 'dataset_path',
  'seqpos_slice', 'model_from_pretrained_kwargs', 'exclude_special_tokens', 'sequence_separator_token',
  'disable_concat_sequences', 'neuronpedia_id', 'sae_lens_training_version',
];

/** Upgrade a pre-6.0 SAELens config (hook_point, activation_fn_str, boolean normalize_activations). */
function upgradePre6(raw: Record<string, unknown>): Record<string, unknown> {
  const renames: Record<string, string> = { hook_point: 'hook_name', hook_point_head_index: 'hook_head_index', activation_fn_str: 'activation_fn' };
  const c: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw)) c[renames[k] ?? k] = v;
  let arch = (c['architecture'] as string | undefined) ?? 'standard';
  const kwargs = isRecord(c['activation_fn_kwargs']) ? c['activation_fn_kwargs'] : {};
  if (c['activation_fn'] === 'topk' && typeof kwargs['k'] === 'number') {
    arch = 'topk';
    c['k'] = kwargs['k'];
  }
  let norm = c['normalize_activations'];
  if (typeof norm === 'boolean') norm = norm ? 'expected_average_only_in' : 'none';
  const metadata: SaeLensMetadata = {};
  for (const key of METADATA_KEYS) if (key in c) metadata[key] = c[key];
  return {
    ...c,
    architecture: arch,
    apply_b_dec_to_input: c['apply_b_dec_to_input'] === undefined ? true : c['apply_b_dec_to_input'],
    normalize_activations: norm === undefined ? 'none' : norm,
    reshape_activations: c['reshape_activations'] === undefined ? (String(c['hook_name'] ?? '').includes('hook_z') ? 'hook_z' : 'none') : c['reshape_activations'],
    metadata,
  };
}

function versionBelow6(v: unknown): boolean {
  if (typeof v !== 'string') return true;
  const major = Number(/^v?(\d+)/.exec(v)?.[1]);
  return !Number.isFinite(major) || major < 6;
}

/** JSON type of a cfg.json field, as SAELens writes it. */
type FieldType = 'boolean' | 'number' | 'string';

/**
 * Typed fields of a cfg.json: the architecture ones, then the training fields of checkpoints
 * (`TrainingSAEConfig.to_dict()`). A field that is present must have this type (null is allowed
 * only where SAELens writes None); a number must be finite.
 */
const FIELD_TYPES: Readonly<Record<string, { readonly type: FieldType; readonly nullable?: boolean }>> = {
  d_in: { type: 'number' },
  d_sae: { type: 'number' },
  k: { type: 'number', nullable: true },
  dtype: { type: 'string' },
  device: { type: 'string' },
  apply_b_dec_to_input: { type: 'boolean' },
  rescale_acts_by_decoder_norm: { type: 'boolean' },
  normalize_activations: { type: 'string' },
  reshape_activations: { type: 'string' },
  decoder_init_norm: { type: 'number', nullable: true },
  l1_coefficient: { type: 'number' },
  lp_norm: { type: 'number' },
  l1_warm_up_steps: { type: 'number' },
  use_sparse_activations: { type: 'boolean' },
  aux_loss_coefficient: { type: 'number' },
  jumprelu_init_threshold: { type: 'number' },
  jumprelu_bandwidth: { type: 'number' },
  jumprelu_sparsity_loss_mode: { type: 'string' },
  l0_coefficient: { type: 'number' },
  l0_warm_up_steps: { type: 'number' },
  pre_act_loss_coefficient: { type: 'number', nullable: true },
  jumprelu_tanh_scale: { type: 'number' },
  topk_threshold_lr: { type: 'number' },
};

function describeJson(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return `an array ${JSON.stringify(v).slice(0, 40)}`;
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
  return `${typeof v} ${JSON.stringify(v)}`;
}

/** Check every present field of {@link FIELD_TYPES}; the message names the field and the type expected. */
function checkFieldTypes(c: Record<string, unknown>, source: string): void {
  for (const [field, spec] of Object.entries(FIELD_TYPES)) {
    if (!Object.hasOwn(c, field)) continue;
    const v = c[field];
    if (v === null && spec.nullable === true) continue;
    const ok = spec.type === 'number' ? typeof v === 'number' && Number.isFinite(v) : typeof v === spec.type;
    if (!ok) {
      const expected = spec.type === 'number' ? 'a finite number' : `a ${spec.type}`;
      throw new ConfigError(
        `saeConfigFromCfgJson: ${source}: field '${field}' must be ${expected}${spec.nullable === true ? ' or null' : ''}, got ${describeJson(v)}` +
          (spec.type === 'boolean' ? ' [write true or false, not a string or 0/1]' : ''),
      );
    }
  }
  if (c['metadata'] !== undefined && c['metadata'] !== null && !isRecord(c['metadata'])) {
    throw new ConfigError(`saeConfigFromCfgJson: ${source}: field 'metadata' must be an object, got ${describeJson(c['metadata'])}`);
  }
}

/**
 * Read a parsed SAELens `cfg.json` (v6, or pre-6.0 through the same upgrade SAELens applies).
 * Fields are typed strictly: booleans must be JSON booleans (not "yes"/"no" or 0/1), numbers
 * finite numbers, strings strings.
 * @param json The parsed JSON.
 * @param source Name for error messages.
 * @returns The config.
 * @throws {@link "tfjs-lens"!ConfigError} for a non-object, an unsupported architecture (the message lists the
 *   supported ones), or a field of the wrong type or value (the message names the cfg.json field).
 * @example const cfg = saeConfigFromCfgJson(JSON.parse(readFileSync('cfg.json', 'utf8')));
 * @category SAE
 */
export function saeConfigFromCfgJson(json: unknown, source = 'cfg.json'): SaeConfig {
  if (!isRecord(json)) throw new ConfigError(`saeConfigFromCfgJson: ${source} must hold a JSON object, got ${describeJson(json)}`);
  const version = json['sae_lens_version'] ?? (isRecord(json['metadata']) ? json['metadata']['sae_lens_version'] : undefined);
  const c = versionBelow6(version) ? upgradePre6(json) : json;
  const arch = c['architecture'];
  if (typeof arch !== 'string' || !(SAE_ARCHITECTURES as readonly string[]).includes(arch)) {
    const near = typeof arch === 'string' ? closeName(arch, SAE_ARCHITECTURES) : undefined;
    throw new ConfigError(
      `saeConfigFromCfgJson: ${source}: architecture ${JSON.stringify(arch)} is not supported — expected one of ${SAE_ARCHITECTURES.map((a) => `'${a}'`).join(', ')}` +
        (near !== undefined ? ` (did you mean '${near}'?)` : ''),
    );
  }
  checkFieldTypes(c, source);
  const cfg: SaeConfig = {
    architecture: arch as SaeArchitecture,
    dIn: c['d_in'] as number,
    dSae: c['d_sae'] as number,
    applyBDecToInput: (c['apply_b_dec_to_input'] as boolean | undefined) ?? true,
    normalizeActivations: (c['normalize_activations'] as NormalizeActivations | undefined) ?? 'none',
    reshapeActivations: (c['reshape_activations'] as 'none' | 'hook_z' | undefined) ?? 'none',
    dtype: (c['dtype'] as string | undefined) ?? 'float32',
    device: (c['device'] as string | undefined) ?? 'cpu',
    metadata: isRecord(c['metadata']) ? (c['metadata'] as SaeLensMetadata) : {},
    ...(arch === 'topk' || arch === 'batchtopk'
      // SAELens defaults: TopKSAEConfig (inference) false, BatchTopKTrainingSAEConfig (training only) true
      ? { k: c['k'] as number, rescaleActsByDecoderNorm: (c['rescale_acts_by_decoder_norm'] as boolean | undefined) ?? arch === 'batchtopk' }
      : {}),
  };
  try {
    return validateSaeConfig(cfg);
  } catch (err) {
    throw new ConfigError(`saeConfigFromCfgJson: ${source}: ${(err as Error).message}`);
  }
}

/**
 * The training fields SAELens writes in a checkpoint's cfg.json (`TrainingSAEConfig.to_dict()`).
 * @param cfg The SAE config.
 * @param t Resolved training hyper-parameters.
 * @returns snake_case fields for the architecture.
 * @example trainingCfgFields(cfg, resolveSaeTraining({ steps: 10, batchSize: 64 })).l1_coefficient;
 * @throws Never.
 * @category SAE
 */
export function trainingCfgFields(cfg: SaeConfig, t: ResolvedSaeTraining): Record<string, unknown> {
  const common = { decoder_init_norm: t.decoderInitNorm };
  if (cfg.architecture === 'standard') {
    return { ...common, l1_coefficient: t.sparsityCoefficient, lp_norm: 1.0, l1_warm_up_steps: t.sparsityWarmupSteps };
  }
  if (cfg.architecture === 'topk') {
    return { ...common, use_sparse_activations: false, aux_loss_coefficient: t.auxLossCoefficient };
  }
  if (cfg.architecture === 'batchtopk') {
    return { ...common, use_sparse_activations: false, aux_loss_coefficient: t.auxLossCoefficient, topk_threshold_lr: t.topkThresholdLr };
  }
  if (cfg.architecture === 'gated') {
    return { ...common, l1_coefficient: t.sparsityCoefficient, l1_warm_up_steps: t.sparsityWarmupSteps };
  }
  return {
    ...common,
    jumprelu_init_threshold: t.jumpreluInitThreshold,
    jumprelu_bandwidth: t.jumpreluBandwidth,
    jumprelu_sparsity_loss_mode: t.jumpreluSparsityLossMode,
    l0_coefficient: t.sparsityCoefficient,
    l0_warm_up_steps: t.sparsityWarmupSteps,
    pre_act_loss_coefficient: null,
    jumprelu_tanh_scale: t.jumpreluTanhScale,
  };
}

/**
 * The cfg.json SAELens would write for this config (`get_inference_sae_cfg_dict`), plus optional
 * training fields (checkpoints). `metadata.sae_lens_version` is the format version (so SAELens does
 * not take the pre-6.0 path); `metadata.trained_with` names this library.
 * @param cfg The SAE config.
 * @param training Extra (training) fields to add.
 * @returns The JSON object.
 * @example JSON.stringify(saeConfigToCfgJson(sae.cfg));
 * @throws Never.
 * @category SAE
 */
export function saeConfigToCfgJson(cfg: SaeConfig, training: Record<string, unknown> = {}): SaeLensCfgJson {
  const metadata: SaeLensMetadata = {
    sae_lens_version: SAE_LENS_FORMAT_VERSION,
    sae_lens_training_version: SAE_LENS_FORMAT_VERSION,
    ...cfg.metadata,
  };
  const out: SaeLensCfgJson = {
    d_in: cfg.dIn,
    d_sae: cfg.dSae,
    dtype: cfg.dtype,
    device: cfg.device,
    apply_b_dec_to_input: cfg.applyBDecToInput,
    normalize_activations: cfg.normalizeActivations,
    reshape_activations: cfg.reshapeActivations,
    ...(cfg.architecture === 'topk' || cfg.architecture === 'batchtopk' ? { k: cfg.k as number, rescale_acts_by_decoder_norm: cfg.rescaleActsByDecoderNorm === true } : {}),
    ...training,
    architecture: cfg.architecture,
    metadata,
  };
  return out;
}
