/**
 * The pure part of SAE loading: SAELens files held in memory (`cfg.json` text and the bytes of
 * `sae_weights.safetensors` / `sparsity.safetensors`) → a {@link SparseAutoencoder}. Nothing in this
 * module's import graph touches `node:` modules, so browsers can fetch the files by URL and call
 * {@link saeFromFiles}; {@link "tfjs-lens/sae"!loadSae} (Node) reads the files and uses the same checks.
 */
import { WeightLoadError } from '../errors.js';
import { decodeTensorBytes } from '../io/safetensors_codec.js';
import { parseHeader, readHeaderLength } from '../io/safetensors_header.js';
import { assertFiniteTensors } from '../io/safetensors_finite.js';
import type { SaeConfig } from './config.js';
import { saeConfigFromCfgJson } from './sae_lens_config.js';
import { SparseAutoencoder, type SaeWeightArrays } from './sae.js';

/** One decoded tensor of a safetensors file (the fields the SAE codec reads). @category SAE */
export interface SaeFileTensor {
  /** Stored dtype ('F32', 'F16', …). */
  readonly dtype: string;
  /** Dimensions. */
  readonly shape: readonly number[];
  /** Values (Float32Array for float dtypes). */
  readonly data: Float32Array | Int32Array;
}

/** Options of {@link saeFromFiles} and {@link saeWeightsFromTensors}. @category SAE */
export interface SaeCodecOptions {
  /** Load NaN/Inf weights instead of throwing (default false). */
  readonly allowNonFinite?: boolean;
  /** Name of the folder or URL in error messages (default '<memory>'). */
  readonly source?: string;
}

const SHAPES = (dIn: number, dSae: number): Record<string, number[]> => ({
  W_enc: [dIn, dSae], b_enc: [dSae], W_dec: [dSae, dIn], b_dec: [dIn], threshold: [dSae], log_threshold: [dSae],
  b_gate: [dSae], r_mag: [dSae], b_mag: [dSae], topk_threshold: [],
});

/** Tensors a folder of this architecture holds (SAELens state-dict names). */
function wantedTensors(arch: string): string[] {
  if (arch === 'gated') return ['W_enc', 'W_dec', 'b_dec', 'b_gate', 'r_mag', 'b_mag'];
  return ['W_enc', 'b_enc', 'W_dec', 'b_dec', ...(arch === 'jumprelu' ? ['threshold'] : arch === 'batchtopk' ? ['topk_threshold'] : [])];
}

/**
 * Parse the text of an SAELens `cfg.json`.
 * @param text The file's text.
 * @param source Path or URL for error messages.
 * @returns The validated config.
 * @throws {@link "tfjs-lens"!WeightLoadError} when the text is not JSON (with a hint for Python's NaN/Infinity);
 *   {@link "tfjs-lens"!ConfigError} for an unsupported architecture or a field of the wrong type.
 * @example const cfg = parseSaeCfgText(await (await fetch(url + '/cfg.json')).text(), url);
 * @category SAE
 */
export function parseSaeCfgText(text: string, source = 'cfg.json'): SaeConfig {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    const hint = /\b(NaN|-?Infinity)\b/.test(text) ? ' [it holds NaN or Infinity, which Python writes but JSON does not allow]' : '';
    throw new WeightLoadError(`loadSae: ${source} is not valid JSON — ${(err as Error).message}${hint}`);
  }
  return saeConfigFromCfgJson(json, source);
}

/**
 * Decode a whole safetensors file held in memory (no `node:` modules).
 * @param bytes The file's bytes.
 * @param source Path or URL for error messages.
 * @returns Tensors by name (fresh arrays).
 * @throws {@link "tfjs-lens"!SafetensorsError} when the header, dtypes, shapes or offsets are malformed.
 * @example parseSaeSafetensors(new Uint8Array(await (await fetch(url)).arrayBuffer())).get('W_enc')?.shape;
 * @category SAE
 */
export function parseSaeSafetensors(bytes: Uint8Array, source = '<bytes>'): Map<string, SaeFileTensor> {
  const n = readHeaderLength(bytes, bytes.byteLength, source);
  const header = parseHeader(bytes.subarray(8, 8 + n), bytes.byteLength - 8 - n, source);
  const out = new Map<string, SaeFileTensor>();
  for (const e of header.entries) {
    const raw = bytes.subarray(header.dataStart + e.begin, header.dataStart + e.end);
    out.set(e.name, { dtype: e.dtype, shape: e.shape, data: decodeTensorBytes(raw, e.dtype, false, `tensor '${e.name}' of ${source}`) });
  }
  return out;
}

/**
 * Check an SAE's tensors against its config (strict, as torch's `load_state_dict`) and return its weights.
 * A training checkpoint's `log_threshold` is accepted as exp → threshold.
 * @param cfg The config (from {@link parseSaeCfgText}).
 * @param tensors Tensors by name.
 * @param opts `allowNonFinite`, `source` for messages.
 * @returns The weight arrays for {@link SparseAutoencoder}'s constructor.
 * @throws {@link "tfjs-lens"!WeightLoadError} listing missing, unexpected or mis-shaped tensors, or NaN/Inf values.
 * @example const w = saeWeightsFromTensors(cfg, parseSaeSafetensors(bytes));
 * @category SAE
 */
export function saeWeightsFromTensors(cfg: SaeConfig, tensors: ReadonlyMap<string, SaeFileTensor>, opts: SaeCodecOptions = {}): SaeWeightArrays {
  const source = opts.source ?? '<memory>';
  const shapes = SHAPES(cfg.dIn, cfg.dSae);
  const wanted = wantedTensors(cfg.architecture);
  const have = new Set(tensors.keys());
  if (cfg.architecture === 'jumprelu' && !have.has('threshold') && have.has('log_threshold')) wanted[4] = 'log_threshold';
  const missing = wanted.filter((n) => !have.has(n));
  const unexpected = [...have].filter((n) => !wanted.includes(n));
  if (missing.length > 0 || unexpected.length > 0) {
    throw new WeightLoadError(
      `loadSae: ${source}: tensors do not match a '${cfg.architecture}' SAE — missing [${missing.join(', ')}], unexpected [${unexpected.join(', ')}]`,
    );
  }
  const arrays: Record<string, Float32Array> = {};
  for (const name of wanted) {
    const t = tensors.get(name);
    const shape = shapes[name] as number[];
    const scalarOk = name === 'topk_threshold' && t !== undefined && t.shape.length <= 1 && t.data.length === 1;
    if (t === undefined || !(t.data instanceof Float32Array) || (t.shape.join(',') !== shape.join(',') && !scalarOk)) {
      throw new WeightLoadError(
        `loadSae: ${source}: tensor '${name}' — expected float [${shape.join(', ')}], got ${t?.dtype} [${t?.shape.join(', ')}]`,
      );
    }
    arrays[name] = t.data;
  }
  if (opts.allowNonFinite !== true) assertFiniteTensors(Object.entries(arrays).map(([n, data]) => [n, { data }] as const), 'loadSae', source);
  const threshold = arrays['threshold'] ?? (arrays['log_threshold'] !== undefined ? arrays['log_threshold'].map(Math.exp) : undefined);
  const opt = (n: 'b_gate' | 'r_mag' | 'b_mag'): Partial<SaeWeightArrays> => (arrays[n] !== undefined ? { [n]: arrays[n] } : {});
  return {
    W_enc: arrays['W_enc'] as Float32Array,
    b_enc: arrays['b_enc'] ?? new Float32Array(cfg.dSae), // gated: no b_enc in SAELens
    W_dec: arrays['W_dec'] as Float32Array,
    b_dec: arrays['b_dec'] as Float32Array,
    ...(threshold !== undefined ? { threshold } : {}),
    ...opt('b_gate'), ...opt('r_mag'), ...opt('b_mag'),
    ...(arrays['topk_threshold'] !== undefined ? { topk_threshold: arrays['topk_threshold'][0] as number } : {}),
  };
}

/**
 * An SAE from its files held in memory: the text of `cfg.json` and the bytes of `sae_weights.safetensors`
 * (same checks as {@link "tfjs-lens/sae"!loadSae}). Needs an initialised tfjs backend (the caller starts it).
 * @param cfgText The text of cfg.json.
 * @param weightBytes The bytes of sae_weights.safetensors.
 * @param opts `allowNonFinite`, `source` (folder or URL) for messages.
 * @returns The SAE (dispose it).
 * @throws As {@link parseSaeCfgText}, {@link parseSaeSafetensors} and {@link saeWeightsFromTensors};
 *   {@link "tfjs-lens"!BackendError} when no tfjs backend is initialised.
 * @example
 * const base = 'saes/induction-2l/blocks.0.hook_resid_post';
 * const sae = saeFromFiles(await (await fetch(`${base}/cfg.json`)).text(),
 *   new Uint8Array(await (await fetch(`${base}/sae_weights.safetensors`)).arrayBuffer()), { source: base });
 * @category SAE
 */
export function saeFromFiles(cfgText: string, weightBytes: Uint8Array, opts: SaeCodecOptions = {}): SparseAutoencoder {
  const source = opts.source ?? '<memory>';
  const cfg = parseSaeCfgText(cfgText, `${source}/cfg.json`);
  const weights = saeWeightsFromTensors(cfg, parseSaeSafetensors(weightBytes, `${source}/sae_weights.safetensors`), { ...opts, source });
  return new SparseAutoencoder(cfg, weights);
}

/**
 * The log10 feature densities of a `sparsity.safetensors` file held in memory.
 * @param bytes The file's bytes.
 * @param source Path or URL for error messages.
 * @returns [d_sae].
 * @throws {@link "tfjs-lens"!WeightLoadError} when there is no float `sparsity` tensor; {@link "tfjs-lens"!SafetensorsError} for a malformed file.
 * @example const logDensity = parseSaeSparsity(bytes);
 * @category SAE
 */
export function parseSaeSparsity(bytes: Uint8Array, source = '<bytes>'): Float32Array {
  return sparsityOf(parseSaeSafetensors(bytes, source), source);
}

/** The float `sparsity` tensor of a decoded sparsity file. @internal */
export function sparsityOf(tensors: ReadonlyMap<string, SaeFileTensor>, source: string): Float32Array {
  const t = tensors.get('sparsity');
  if (t === undefined || !(t.data instanceof Float32Array)) throw new WeightLoadError(`readSaeSparsity: ${source}: no float 'sparsity' tensor`);
  return t.data;
}
