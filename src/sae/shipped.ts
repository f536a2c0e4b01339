/**
 * The SAEs shipped with the package, under `saes/<model>/<hook>/` in SAELens's layout (see
 * `saes/README.md` and `saes/index.json`), loaded by model and hook name. Browsers fetch the same
 * files by URL and decode them with {@link saeFromFiles}.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { packageRoot } from '../utils/package_root.js';
import { findShippedSae, type ShippedSaeName } from './shipped_lookup.js';
import { loadSae, saeDir } from './io.js';
import type { SparseAutoencoder } from './sae.js';

/** One shipped SAE. @category SAE */
export interface ShippedSaeEntry extends ShippedSaeName {
  /** Its folder. */
  readonly dir: string;
}

/** Sub-folders of a folder (none when it does not exist). */
async function subdirs(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name).sort();
  } catch {
    return [];
  }
}

/**
 * The shipped SAEs: every `saes/<model>/<hook>/` folder holding a `cfg.json`.
 * @param root Base folder (default the package root).
 * @returns Model, hook and folder of each, sorted by model then hook.
 * @throws Never (a missing `saes/` folder gives an empty list).
 * @example (await listShippedSaes()).map((e) => `${e.model} ${e.hook}`);
 * @category SAE
 */
export async function listShippedSaes(root: string = packageRoot()): Promise<ShippedSaeEntry[]> {
  const out: ShippedSaeEntry[] = [];
  for (const model of await subdirs(join(root, 'saes'))) {
    for (const hook of await subdirs(join(root, 'saes', model))) {
      const dir = saeDir(model, hook, root);
      const files = await readdir(dir).catch(() => [] as string[]);
      if (files.includes('cfg.json')) out.push({ model, hook, dir });
    }
  }
  return out;
}

/**
 * Load a shipped SAE by model and hook name (SAELens files under `saes/<model>/<hook>/`).
 * @param modelName e.g. 'induction-2l' or 'distilbert-mini'.
 * @param hookName e.g. 'blocks.0.hook_resid_post' or 'blocks.0.attn.hook_q'.
 * @param opts `root`: base folder holding `saes/` (default the package root).
 * @returns The SAE (dispose it); `sae.cfg.metadata` holds the model and hook names.
 * @throws {@link "tfjs-lens"!ConfigError} for a model or hook with no shipped SAE, naming the nearest shipped name
 *   and listing the shipped ones; otherwise as {@link loadSae}.
 * @example const sae = await loadShippedSae('induction-2l', 'blocks.0.hook_resid_post');
 * @category SAE
 */
export async function loadShippedSae(modelName: string, hookName: string, opts: {
  /** Base folder holding `saes/` (default the package root). */
  readonly root?: string;
} = {}): Promise<SparseAutoencoder> {
  return loadSae(findShippedSae('loadShippedSae', await listShippedSaes(opts.root), modelName, hookName).dir);
}
