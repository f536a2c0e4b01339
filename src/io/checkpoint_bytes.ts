/**
 * Checkpoint loading on bytes and parsed JSON (no file system): the checkpoint file names, the
 * shard index, a `model.safetensors` (plain or int8) to raw tensors, picking a shard's tensors.
 * Shared by the Node folder loader (checkpoint.ts) and the browser's URL loaders.
 */
import { ConfigError, WeightLoadError } from '../errors.js';
import { dequantizeInt8Tensors, isInt8Safetensors } from './int8.js';
import { parseSafetensors, type RawTensor, type SafetensorsContents } from './safetensors_bytes.js';
import { assertFiniteTensors } from './safetensors_finite.js';

/** Single-file checkpoint name. @category IO */
export const SAFETENSORS_FILE = 'model.safetensors';
/** Sharded checkpoint index name. @category IO */
export const SAFETENSORS_INDEX_FILE = 'model.safetensors.index.json';

/** A validated shard index. @category IO */
export interface ShardIndex {
  /** Tensor name → shard file (relative to the checkpoint directory). */
  readonly weightMap: Readonly<Record<string, string>>;
  /** Distinct shard files, sorted. */
  readonly shards: readonly string[];
}

/** True when `name` is a plain relative path inside the checkpoint directory. */
function isSafeRelPath(name: string): boolean {
  if (name === '' || name.startsWith('/') || name.includes('\\') || /^[A-Za-z]:/.test(name)) return false;
  return name.split('/').every((seg) => seg !== '' && seg !== '.' && seg !== '..');
}

/**
 * Validate the JSON of `model.safetensors.index.json`.
 * @param json - parsed index (`{"metadata": …, "weight_map": {tensor: shardFile}}`)
 * @param path - index path, for messages
 * @returns the weight map and its distinct shard files
 * @throws {@link "tfjs-lens"!WeightLoadError} when `weight_map` is missing, empty, not string→string, or names a path outside the directory
 * @example
 * const { shards } = parseShardIndex(await readJsonFile(p, 'shard index'), p);
 * @category IO
 */
export function parseShardIndex(json: unknown, path: string): ShardIndex {
  const wm = (json as { weight_map?: unknown } | null)?.weight_map;
  if (typeof wm !== 'object' || wm === null || Array.isArray(wm) || Object.keys(wm).length === 0) {
    throw new WeightLoadError(
      `parseShardIndex: bad weight_map in ${path} — expected a non-empty object {tensorName: shardFile}, got ${JSON.stringify(wm)?.slice(0, 80)}`,
    );
  }
  const shards = new Set<string>();
  for (const [name, file] of Object.entries(wm)) {
    if (typeof file !== 'string' || !isSafeRelPath(file)) {
      throw new WeightLoadError(
        `parseShardIndex: bad shard file for '${name}' in ${path} — expected a relative file name inside the checkpoint directory, got ${JSON.stringify(file)}`,
      );
    }
    shards.add(file);
  }
  return { weightMap: wm as Record<string, string>, shards: [...shards].sort() };
}

/**
 * Parse JSON text read from `source` (a path or URL).
 * @param text - the file's text
 * @param what - what the file is, for messages (e.g. `'model config'`)
 * @param source - where it came from, for messages
 * @param fn - calling function, for messages
 * @returns the parsed value (unchecked cast to `T`)
 * @throws {@link "tfjs-lens"!ConfigError} when it is not valid JSON
 */
export function parseJsonText<T>(text: string, what: string, source: string, fn = 'readJsonFile'): T {
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new ConfigError(`${fn}: ${what} at ${source} is not valid JSON — ${(err as Error).message}`);
  }
}

/**
 * The tensors of a whole `model.safetensors` held in memory: an int8 file (writeInt8Safetensors) is
 * dequantised to float32; float tensors holding NaN/Inf are refused unless `allowNonFinite`.
 * @param bytes - the file contents
 * @param source - path or URL, for messages
 * @param opts - `allowNonFinite: true` keeps NaN/Inf weights
 * @returns tensor name → raw tensor
 * @throws {@link "tfjs-lens"!SafetensorsError} when malformed; {@link "tfjs-lens"!WeightLoadError} for NaN/Inf weights
 */
export function checkpointTensorsFromBytes(bytes: Uint8Array, source: string, opts: { readonly allowNonFinite?: boolean } = {}): Map<string, RawTensor> {
  const tensors = checkpointTensorsFromContents(parseSafetensors(bytes, source), source);
  if (opts.allowNonFinite !== true) assertFiniteTensors(tensors, 'loadCheckpointTensors', source);
  return tensors;
}

/** The tensors of a parsed `model.safetensors`: an int8 file (writeInt8Safetensors) dequantised to float32. */
export function checkpointTensorsFromContents(contents: SafetensorsContents, source: string): Map<string, RawTensor> {
  return isInt8Safetensors(contents.metadata) ? dequantizeInt8Tensors(contents, source) : contents.tensors;
}

/**
 * Move the tensors the shard index assigns to `shard` from `tensors` into `out`; names the index
 * lists but the shard lacks are pushed to `missing` as `name (shard)`.
 */
export function takeShardTensors(
  weightMap: Readonly<Record<string, string>>,
  shard: string,
  tensors: ReadonlyMap<string, RawTensor>,
  out: Map<string, RawTensor>,
  missing: string[],
): void {
  for (const [name, file] of Object.entries(weightMap)) {
    if (file !== shard) continue;
    const t = tensors.get(name);
    if (t === undefined) missing.push(`${name} (${shard})`);
    else out.set(name, t);
  }
}

/** The error for tensors an index names that their shards lack (or undefined when none are missing). */
export function missingShardTensorsError(missing: readonly string[], indexPath: string, total: number): WeightLoadError | undefined {
  if (missing.length === 0) return undefined;
  const shown = missing.slice(0, 20).join(', ') + (missing.length > 20 ? `, … (${missing.length} in all)` : '');
  return new WeightLoadError(
    `loadCheckpointTensors: tensors listed in ${indexPath} not found in their shard — expected all ${total} names, missing: ${shown}`,
  );
}
