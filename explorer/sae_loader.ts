/**
 * Find and load the shipped SAE of a model: `saes/index.json` lists them ({ saes: [{ model, hook,
 * path }] }, SAELens layout under `saes/<model>/<hook>/`); the library's `loadSaeFromUrl` loads the
 * folder of the first one listed for the model.
 */
import type { LensApi, SparseAutoencoder } from './lens_api.js';

/** A loaded SAE with the hook it reads. */
export interface ShippedSae {
  readonly sae: SparseAutoencoder;
  readonly hook: string;
  readonly label: string;
  /** URL of the SAE's feature dashboard page, when one ships. */
  readonly dashboard?: string;
}

interface IndexEntry {
  readonly model?: string;
  readonly hook?: string;
  readonly path?: string;
  readonly d_sae?: number;
  readonly architecture?: string;
  readonly files?: readonly string[];
}

/** Load the first SAE `saes/index.json` lists for `model`; throws a readable message when none ships. */
export async function saeForModel(api: LensApi, model: string, base: string): Promise<ShippedSae> {
  if (typeof api.loadSaeFromUrl !== 'function') throw new Error('this tfjs-lens bundle has no loadSaeFromUrl');
  const saesUrl = new URL('saes/', base);
  const res = await fetch(new URL('index.json', saesUrl));
  if (!res.ok) throw new Error('no saes/index.json next to the page (no SAE shipped: run scripts/train_shipped_saes.ts)');
  const index = (await res.json()) as { saes?: IndexEntry[] };
  const entry = (index.saes ?? []).find((e) => e.model === model && typeof e.hook === 'string');
  if (entry === undefined) throw new Error(`saes/index.json lists no SAE for ${model}`);
  const hook = entry.hook as string;
  const dir = new URL(`${entry.path ?? `${model}/${hook}`}/`, saesUrl);
  const sae = await api.loadSaeFromUrl(dir.href); // the index is read once, here (loadShippedSaeFromUrl would read it again)
  const label = `SAE ${model}/${hook} (${entry.architecture ?? sae.cfg.architecture}, ${sae.cfg.dSae} features)`;
  const dashboard = entry.files?.includes('features.html') === true ? new URL('features.html', dir).href : undefined;
  return { sae, hook, label, ...(dashboard === undefined ? {} : { dashboard }) };
}
