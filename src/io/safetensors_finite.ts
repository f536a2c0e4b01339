/**
 * Non-finite weight check shared by the loaders (checkpoints, SAEs, β-VAE probes): a NaN or ±Inf
 * in a loaded weight is refused with an error naming the tensor, unless the caller opts out
 * (`allowNonFinite: true`) for a deliberate experiment. One pass over each float array.
 */
import { WeightLoadError } from '../errors.js';

/** Non-finite values of one array: how many, and the first one. */
interface NonFinite {
  readonly count: number;
  readonly index: number;
  readonly value: number;
}

function scan(data: Float32Array): NonFinite | undefined {
  let count = 0;
  let index = -1;
  for (let i = 0; i < data.length; i++) {
    const v = data[i] as number;
    if (v - v !== 0) {
      // NaN - NaN and ±Inf - ±Inf are NaN; every finite v gives 0.
      if (count === 0) index = i;
      count++;
    }
  }
  return count === 0 ? undefined : { count, index, value: data[index] as number };
}

/**
 * Throw when any float tensor holds NaN or ±Inf (integer tensors are skipped).
 * @param tensors Name → values (only `data` is read).
 * @param fn Caller name for the message (e.g. 'loadSae').
 * @param source The file or folder, for the message.
 * @throws {@link "tfjs-lens"!WeightLoadError} naming every bad tensor, its count of non-finite
 *   values and the first one, with the `allowNonFinite` hint.
 * @example assertFiniteTensors((await readSafetensorsFile(p)).tensors, 'loadSae', p);
 */
export function assertFiniteTensors(
  tensors: Iterable<readonly [string, { readonly data: Float32Array | Int32Array }]>,
  fn: string,
  source: string,
): void {
  const bad: string[] = [];
  for (const [name, t] of tensors) {
    if (!(t.data instanceof Float32Array)) continue;
    const nf = scan(t.data);
    if (nf !== undefined) bad.push(`'${name}' (${nf.count} of ${t.data.length}, first ${nf.value} at index ${nf.index})`);
  }
  if (bad.length === 0) return;
  const shown = bad.slice(0, 10).join(', ') + (bad.length > 10 ? `, … (${bad.length} tensors)` : '');
  throw new WeightLoadError(
    `${fn}: non-finite weights in ${source} — expected finite values, got NaN/Inf in tensor ${shown} ` +
      '[a diverged or corrupted save; pass { allowNonFinite: true } to load it anyway]',
  );
}
