/**
 * Load the raw tensors of a Hugging Face checkpoint directory: `model.safetensors`, or a sharded
 * `model.safetensors.index.json` + shards (the layout `save_pretrained` writes). Plain typed arrays.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { NotFoundError, WeightLoadError } from '../errors.js';
import { fsError, readSafetensorsFile, type RawTensor } from './safetensors.js';
import { assertFiniteTensors } from './safetensors_finite.js';
import { checkpointTensorsFromContents, missingShardTensorsError, parseJsonText, parseShardIndex, SAFETENSORS_FILE, SAFETENSORS_INDEX_FILE, takeShardTensors } from './checkpoint_bytes.js';

export { parseShardIndex, SAFETENSORS_FILE, SAFETENSORS_INDEX_FILE } from './checkpoint_bytes.js';
export type { ShardIndex } from './checkpoint_bytes.js';

/**
 * Read and parse a JSON file.
 * @param path - file path
 * @param what - what the file is, for messages (e.g. `'model config'`)
 * @returns the parsed value (unchecked cast to `T`)
 * @throws {@link "tfjs-lens"!NotFoundError} when the file does not exist
 * @throws {@link "tfjs-lens"!ConfigError} when it is not valid JSON
 * @throws {@link "tfjs-lens"!WeightLoadError} for other I/O errors
 * @example
 * const cfg = await readJsonFile<HfGpt2Config>('gpt2/config.json', 'model config');
 * @category IO
 */
export async function readJsonFile<T>(path: string, what: string): Promise<T> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw fsError('readJsonFile', path, err);
  }
  return parseJsonText<T>(text, what, path);
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/** Build the "no weights here" error, listing what the directory does contain. */
async function noWeightsError(dir: string): Promise<NotFoundError> {
  let listing: string;
  try {
    const names = (await readdir(dir)).sort();
    listing = names.length === 0 ? '(empty directory)' : names.slice(0, 30).join(', ') + (names.length > 30 ? `, … (${names.length} files)` : '');
  } catch {
    listing = '(directory does not exist or is unreadable)';
  }
  return new NotFoundError(
    `loadCheckpointTensors: no weights in ${dir} — expected ${SAFETENSORS_FILE} or ${SAFETENSORS_INDEX_FILE}, found: ${listing} ` +
      '[pytorch_model.bin is not supported: convert it to safetensors, e.g. with `model.save_pretrained(dir, safe_serialization=True)` in Python]',
  );
}

/** Load every shard once and pick the tensors the index assigns to it. */
async function loadSharded(dir: string, indexPath: string): Promise<Map<string, RawTensor>> {
  const index = parseShardIndex(await readJsonFile<unknown>(indexPath, 'shard index'), indexPath);
  const absent = [];
  for (const shard of index.shards) if (!(await isFile(join(dir, shard)))) absent.push(shard);
  if (absent.length > 0) {
    throw new WeightLoadError(
      `loadCheckpointTensors: missing shard files in ${dir} — expected ${index.shards.length} shards named by ${SAFETENSORS_INDEX_FILE}, missing: ${absent.join(', ')}`,
    );
  }
  const out = new Map<string, RawTensor>();
  const missing: string[] = [];
  for (const shard of index.shards) {
    const { tensors } = await readSafetensorsFile(join(dir, shard));
    takeShardTensors(index.weightMap, shard, tensors, out, missing);
  }
  const err = missingShardTensorsError(missing, indexPath, Object.keys(index.weightMap).length);
  if (err !== undefined) throw err;
  return out;
}

/**
 * Load all tensors of a checkpoint directory (`model.safetensors`, else a sharded index). A
 * `model.safetensors` written by `writeInt8Safetensors` is dequantised to float32. Float
 * tensors holding NaN or ±Inf are refused (one pass over each array) unless `allowNonFinite` is set.
 * @param dir - checkpoint directory (e.g. from `resolveModelDir`)
 * @param opts - `allowNonFinite: true` loads NaN/Inf weights as they are (deliberate experiments)
 * @returns tensor name → raw tensor; for sharded checkpoints exactly the names in `weight_map`
 * @throws {@link "tfjs-lens"!NotFoundError} when the directory has no safetensors weights (lists its files)
 * @throws {@link "tfjs-lens"!WeightLoadError} when a shard or a tensor named by the index is missing, or a
 *   float tensor holds NaN/Inf (the message names the tensors)
 * @throws {@link "tfjs-lens"!SafetensorsError} when a weights file is malformed
 * @example
 * const tensors = await loadCheckpointTensors((await resolveModelDir('gpt2')).dir);
 * tensors.get('transformer.h.0.attn.c_attn.weight')?.shape; // [768, 2304]
 * @category IO
 */
export async function loadCheckpointTensors(
  dir: string,
  opts: {
    /** Load NaN/Inf weights instead of throwing (default false). */
    readonly allowNonFinite?: boolean;
  } = {},
): Promise<Map<string, RawTensor>> {
  const single = join(dir, SAFETENSORS_FILE);
  const indexPath = join(dir, SAFETENSORS_INDEX_FILE);
  let tensors: Map<string, RawTensor>;
  if (await isFile(single)) {
    tensors = checkpointTensorsFromContents(await readSafetensorsFile(single), single); // int8 file: to float32
  } else if (await isFile(indexPath)) tensors = await loadSharded(dir, indexPath);
  else throw await noWeightsError(dir);
  if (opts.allowNonFinite !== true) assertFiniteTensors(tensors, 'loadCheckpointTensors', dir);
  return tensors;
}
