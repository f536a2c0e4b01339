/**
 * The node-free half of the β-VAE probe format (`vae_config.json` + `vae_weights.safetensors`, see
 * vae_io.ts): turn a trained probe into its config JSON and named tensors, and rebuild a probe from
 * the config JSON and the weight file's bytes. Nothing here touches the file system, so a browser
 * page can `fetch` both files and call {@link decodeBetaVae}; vae_io.ts reads and writes the files
 * and calls these functions. The import graph holds no `node:` module.
 */
import { ConfigError, ShapeError, WeightLoadError } from '../errors.js';
import { parseSafetensors } from '../io/safetensors_bytes.js';
import { assertFiniteTensors } from '../io/safetensors_finite.js';
import { BetaVae, type VaeWeightArrays } from './beta_vae.js';
import type { ColumnScaler } from './matrix.js';
import type { BetaVaeConfig } from './vae_config.js';

/** Format tag written into `vae_config.json`. @category Probe */
export const VAE_FORMAT = 'tfjs-lens/beta-vae@1';

/** The JSON written as `vae_config.json`. @category Probe */
export interface SavedVaeConfig {
  /** Format tag. */
  readonly format: string;
  /** Architecture. */
  readonly config: BetaVaeConfig;
  /** Kind of the saved scaler, or null. */
  readonly scaler: ColumnScaler['kind'] | null;
  /** Free-form metadata (model, hook, dataset, training figures…). */
  readonly metadata: Record<string, unknown>;
}

/** One F32 tensor of the weight file. @category Probe */
export interface VaeTensor {
  /** Dimensions. */
  readonly shape: readonly number[];
  /** Row-major values. */
  readonly data: Float32Array;
}

/** A probe rebuilt from its parts. @category Probe */
export interface DecodedBetaVae {
  /** The model (caller disposes). */
  readonly vae: BetaVae;
  /** The feature scaler saved with it, if any (apply it before scoring: x' = (x − shift) / scale). */
  readonly scaler: ColumnScaler | undefined;
  /** The free-form metadata. */
  readonly metadata: Record<string, unknown>;
  /** The token mean μ_tok of a √n-pooled probe (`metadata.pooling === 'sqrtn'`: input √n·(mean − μ_tok)), saved as `pooling.mu`. */
  readonly tokenMean?: Float32Array;
}

/**
 * The config JSON and the named tensors of a probe (parameters under their {@link BetaVae} names, plus
 * `scaler.shift` / `scaler.scale` when a scaler is given and `pooling.mu` when a token mean is given).
 * @param vae The model.
 * @param opts The feature scaler, the token mean of a √n-pooled probe, and metadata.
 * @returns The JSON object and the tensors to write as F32.
 * @throws {@link "tfjs-lens"!DisposedError} for a disposed model.
 * @category Probe
 */
export function encodeBetaVae(vae: BetaVae, opts: { scaler?: ColumnScaler; tokenMean?: ArrayLike<number>; metadata?: Record<string, unknown> } = {}): {
  /** The `vae_config.json` object. */
  config: SavedVaeConfig;
  /** Name → F32 tensor. */
  tensors: Map<string, VaeTensor>;
} {
  const tensors = new Map<string, VaeTensor>();
  for (const [name, w] of vae.weightArrays()) tensors.set(name, { shape: w.shape, data: w.data });
  if (opts.scaler !== undefined) {
    const d = opts.scaler.shift.length;
    tensors.set('scaler.shift', { shape: [d], data: opts.scaler.shift });
    tensors.set('scaler.scale', { shape: [d], data: opts.scaler.scale });
  }
  if (opts.tokenMean !== undefined) tensors.set('pooling.mu', { shape: [opts.tokenMean.length], data: Float32Array.from(opts.tokenMean) });
  return { config: { format: VAE_FORMAT, config: vae.cfg, scaler: opts.scaler?.kind ?? null, metadata: opts.metadata ?? {} }, tensors };
}

/**
 * Rebuild a probe from its config JSON and its named tensors. The tfjs backend must be initialised
 * (`await initBackend()`), as for `new BetaVae`.
 * @param json The parsed `vae_config.json` (checked here).
 * @param tensors Name → tensor, as read from `vae_weights.safetensors`.
 * @param source Where the config and the weights came from (file paths or names), for messages.
 * @param opts `allowNonFinite: true` keeps NaN/Inf values (default: refused).
 * @returns The model, its scaler and metadata.
 * @throws {@link "tfjs-lens"!WeightLoadError} for a wrong format tag, missing / extra / mis-shaped / non-float /
 *   non-finite tensors (named); {@link "tfjs-lens"!ConfigError} for an invalid architecture; {@link "tfjs-lens"!BackendError} without a backend.
 * @category Probe
 */
export function betaVaeFromParts(
  json: unknown,
  tensors: ReadonlyMap<string, { readonly shape: readonly number[]; readonly data: Float32Array | Int32Array }>,
  source: { readonly config: string; readonly weights: string },
  opts: { readonly allowNonFinite?: boolean } = {},
): DecodedBetaVae {
  const j = json as Partial<SavedVaeConfig> | null;
  if (typeof j !== 'object' || j === null || j.format !== VAE_FORMAT || typeof j.config !== 'object' || j.config === null) {
    throw new WeightLoadError(`loadBetaVae: ${source.config} is not a ${VAE_FORMAT} file (format ${JSON.stringify(j?.format)})`);
  }
  const notFloat = [...tensors].filter(([, t]) => !(t.data instanceof Float32Array)).map(([n]) => `'${n}'`);
  if (notFloat.length > 0) throw new WeightLoadError(`loadBetaVae: ${source.weights}: expected float tensors, got integer ${notFloat.join(', ')}`);
  if (opts.allowNonFinite !== true) assertFiniteTensors(tensors, 'loadBetaVae', source.weights);
  const weights: VaeWeightArrays = new Map();
  for (const [name, t] of tensors) if (!name.startsWith('scaler.') && name !== 'pooling.mu') weights.set(name, { shape: t.shape, data: t.data as Float32Array });
  let scaler: ColumnScaler | undefined;
  if (j.scaler !== null && j.scaler !== undefined) {
    const shift = tensors.get('scaler.shift');
    const scale = tensors.get('scaler.scale');
    if (shift === undefined || scale === undefined) throw new WeightLoadError(`loadBetaVae: ${source.weights} declares a scaler but lacks scaler.shift / scaler.scale`);
    scaler = { kind: j.scaler, shift: shift.data as Float32Array, scale: scale.data as Float32Array };
  }
  let vae: BetaVae;
  try {
    vae = new BetaVae(j.config, weights);
  } catch (err) {
    if (!(err instanceof ShapeError)) throw err;
    throw new WeightLoadError(`loadBetaVae: ${source.weights}: ${err.message}`);
  }
  const expected = new Set(vae.weightArrays().keys());
  const extra = [...weights.keys()].filter((n) => !expected.has(n));
  if (extra.length > 0) {
    vae.dispose();
    throw new WeightLoadError(`loadBetaVae: ${source.weights} holds tensors this architecture does not use: ${extra.join(', ')}`);
  }
  const metadata = typeof j.metadata === 'object' && j.metadata !== null && !Array.isArray(j.metadata) ? j.metadata : {};
  const mu = tensors.get('pooling.mu');
  if (mu !== undefined && mu.data.length !== vae.cfg.dIn) {
    vae.dispose();
    throw new WeightLoadError(`loadBetaVae: ${source.weights}: pooling.mu has ${mu.data.length} values, the VAE's d_in is ${vae.cfg.dIn}`);
  }
  return { vae, scaler, metadata, ...(mu === undefined ? {} : { tokenMean: mu.data as Float32Array }) };
}

/**
 * Rebuild a probe from the contents of its two files, e.g. fetched by a browser page. No file
 * system; the tfjs backend must already be initialised (`await initBackend()`).
 * @param config `vae_config.json` as text or as the parsed object.
 * @param weights The bytes of `vae_weights.safetensors`.
 * @param opts `allowNonFinite: true` keeps NaN/Inf values.
 * @returns The model (caller disposes), its scaler and metadata.
 * @throws {@link "tfjs-lens"!ConfigError} for config text that is not JSON; {@link "tfjs-lens"!SafetensorsError} for
 *   malformed weight bytes; otherwise as {@link betaVaeFromParts}.
 * @example
 * const [cfg, w] = await Promise.all([fetch(`${dir}/vae_config.json`).then((r) => r.text()), fetch(`${dir}/vae_weights.safetensors`).then((r) => r.arrayBuffer())]);
 * const { vae, scaler } = decodeBetaVae(cfg, new Uint8Array(w));
 * @category Probe
 */
export function decodeBetaVae(config: string | object, weights: Uint8Array, opts: { readonly allowNonFinite?: boolean } = {}): DecodedBetaVae {
  let json: unknown = config;
  if (typeof config === 'string') {
    try {
      json = JSON.parse(config) as unknown;
    } catch (err) {
      throw new ConfigError(`decodeBetaVae: the config is not JSON (${(err as Error).message}); pass the text of vae_config.json`);
    }
  }
  const source = '<vae_weights.safetensors bytes>';
  const { tensors } = parseSafetensors(weights, source);
  return betaVaeFromParts(json, tensors, { config: '<vae_config.json>', weights: source }, opts);
}
