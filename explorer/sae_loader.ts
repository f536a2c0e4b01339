/**
 * Find and load the shipped SAE of a model: `saes/index.json` lists them ({ saes: [{ model, hook,
 * path }] }, SAELens layout under `saes/<model>/<hook>/`); the bundle's `loadSaeFromUrl` loads one
 * (or, failing that, its `saeFromFiles` on the fetched cfg.json and sae_weights.safetensors).
 */
import type { saeFromFiles } from '../src/sae/io_codec.js';
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

async function fetchOk(url: URL): Promise<Response> {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url.pathname} is not there (HTTP ${r.status})`);
  return r;
}

function asSae(x: unknown): SparseAutoencoder {
  if (typeof x === 'object' && x !== null) {
    if (typeof (x as SparseAutoencoder).encode === 'function') return x as SparseAutoencoder;
    const inner = (x as { sae?: unknown }).sae;
    if (typeof inner === 'object' && inner !== null && typeof (inner as SparseAutoencoder).encode === 'function') return inner as SparseAutoencoder;
  }
  throw new Error('loadSaeFromUrl returned no SparseAutoencoder');
}

/** Load the first SAE listed for `model`; throws a readable message when none ships. */
export async function saeForModel(api: LensApi, model: string, base: string): Promise<ShippedSae> {
  const idxUrl = new URL('saes/index.json', base);
  const index = (await (await fetchOk(idxUrl).catch(() => {
    throw new Error('no saes/index.json next to the page (no SAE shipped yet: run scripts/train_shipped_saes.ts)');
  })).json()) as { saes?: IndexEntry[] };
  const entry = (index.saes ?? []).find((e) => e.model === model && typeof e.hook === 'string');
  if (entry === undefined) throw new Error(`saes/index.json lists no SAE for ${model}`);
  const hook = entry.hook as string;
  const dir = new URL(`saes/${entry.path ?? `${model}/${hook}`}/`, base);
  let sae: SparseAutoencoder;
  if (typeof api.loadSaeFromUrl === 'function') sae = asSae(await api.loadSaeFromUrl(dir.href));
  else if (typeof api['saeFromFiles'] === 'function') {
    const fromFiles = api['saeFromFiles'] as typeof saeFromFiles;
    const [cfg, w] = await Promise.all([fetchOk(new URL('cfg.json', dir)).then((r) => r.text()), fetchOk(new URL('sae_weights.safetensors', dir)).then((r) => r.arrayBuffer())]);
    sae = fromFiles(cfg, new Uint8Array(w));
  } else throw new Error('this tfjs-lens bundle exports neither loadSaeFromUrl nor saeFromFiles');
  const label = `SAE ${model}/${hook} (${entry.architecture ?? sae.cfg.architecture}, ${sae.cfg.dSae} features)`;
  const dashboard = entry.files?.includes('features.html') === true ? new URL('features.html', dir).href : undefined;
  return { sae, hook, label, ...(dashboard === undefined ? {} : { dashboard }) };
}
