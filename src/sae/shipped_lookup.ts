/**
 * Finding a shipped SAE by model and hook name in a list of shipped ones (node-free: the Node loader
 * lists `saes/` on disk, the browser loader reads `saes/index.json`; both refuse the same way).
 */
import { ConfigError } from '../errors.js';
import { closeName } from '../utils/nearest.js';

/** Model and hook of one shipped SAE. @category SAE */
export interface ShippedSaeName {
  /** Model name, e.g. 'induction-2l'. */
  readonly model: string;
  /** Hook name, e.g. 'blocks.0.hook_resid_post'. */
  readonly hook: string;
}

/**
 * The entry of `entries` for a model and hook.
 * @param fn Calling function, for the message.
 * @param entries The shipped SAEs.
 * @param modelName Model name.
 * @param hookName Hook name.
 * @returns The matching entry.
 * @throws {@link "tfjs-lens"!ConfigError} when none matches, naming the nearest model or hook and listing the shipped ones.
 * @category SAE
 */
export function findShippedSae<E extends ShippedSaeName>(fn: string, entries: readonly E[], modelName: string, hookName: string): E {
  const hit = entries.find((e) => e.model === modelName && e.hook === hookName);
  if (hit !== undefined) return hit;
  const list = entries.length === 0 ? '(none found: is the saes/ folder installed?)' : entries.map((e) => `'${e.model}' '${e.hook}'`).join(', ');
  const models = [...new Set(entries.map((e) => e.model))];
  if (!models.includes(modelName)) {
    const near = closeName(modelName, models);
    throw new ConfigError(`${fn}: no shipped SAE for model '${modelName}'${near !== undefined ? ` — did you mean '${near}'?` : ''}; shipped: ${list}`);
  }
  const near = closeName(hookName, entries.filter((e) => e.model === modelName).map((e) => e.hook));
  throw new ConfigError(`${fn}: no shipped SAE of '${modelName}' at hook '${hookName}'${near !== undefined ? ` — did you mean '${near}'?` : ''}; shipped: ${list}`);
}
