/**
 * The pretrained-SAE registry: SAELens's `pretrained_saes.yaml` format (release → `repo_id`,
 * `model`, `conversion_func`, `config_overrides`, and `saes: [{id, path, l0, variance_explained,
 * neuronpedia, norm_scaling_factor}]`), read as SAELens `get_pretrained_saes_directory` does
 * (`sae_lens/loading/pretrained_saes_directory.py`). The shipped copy is
 * `data/saelens/pretrained_saes.yaml`; a caller may pass its own file, URL or parsed registry.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ConfigError, NotFoundError } from '../errors.js';
import { nearestNames } from '../utils/nearest.js';
import { packageRoot } from '../utils/package_root.js';

/**
 * One release of the registry (SAELens `PretrainedSAELookup`, camelCase), plus each SAE's
 * `norm_scaling_factor`.
 * @category SAE
 */
export interface PretrainedSaeLookup {
  /** Release name, e.g. 'gpt2-small-res-jb'. */
  readonly release: string;
  /** Hugging Face repo holding the SAEs. */
  readonly repoId: string;
  /** Model the SAEs read (SAELens / TransformerLens name). */
  readonly model: string;
  /** SAELens loader name (`null`: the SAELens cfg.json + safetensors layout; 'gemma_2': Gemma Scope npz). */
  readonly conversionFunc: string | null;
  /** SAE id → folder in the repo. */
  readonly saesMap: Readonly<Record<string, string>>;
  /** SAE id → expected variance explained (default 1). */
  readonly expectedVarExplained: Readonly<Record<string, number>>;
  /** SAE id → expected L0 (default 0). */
  readonly expectedL0: Readonly<Record<string, number>>;
  /** SAE id → Neuronpedia id (null when none). */
  readonly neuronpediaId: Readonly<Record<string, string | null>>;
  /** Fields applied over every SAE's cfg.json of the release (or null). */
  readonly configOverrides: Readonly<Record<string, unknown>> | null;
  /** SAE id → activation-norm scaling factor folded in at load (when the cfg says 'expected_average_only_in'). */
  readonly normScalingFactor: Readonly<Record<string, number | undefined>>;
}

/** A parsed registry: release name → lookup. @category SAE */
export type SaeRegistry = ReadonlyMap<string, PretrainedSaeLookup>;

/**
 * Path of the registry shipped with the package (SAELens v6.18.0's entries for the releases this
 * library can load).
 * @returns `<package>/data/saelens/pretrained_saes.yaml`.
 * @throws Never.
 * @example const registry = await loadSaeRegistry(defaultSaeRegistryPath());
 * @category SAE
 */
export function defaultSaeRegistryPath(): string {
  return join(packageRoot(), 'data', 'saelens', 'pretrained_saes.yaml');
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function lookupOf(release: string, value: unknown, source: string): PretrainedSaeLookup {
  const where = `${source}: release '${release}'`;
  if (!isRecord(value)) throw new ConfigError(`parseSaeRegistry: ${where} must be a mapping`);
  if (!Array.isArray(value['saes'])) throw new ConfigError(`parseSaeRegistry: ${where}: missing 'saes' key (a list of {id, path})`);
  if (typeof value['repo_id'] !== 'string') throw new ConfigError(`parseSaeRegistry: ${where}: 'repo_id' must be a string`);
  const conv = value['conversion_func'] ?? null;
  if (conv !== null && typeof conv !== 'string') throw new ConfigError(`parseSaeRegistry: ${where}: 'conversion_func' must be a string or null`);
  const overrides = value['config_overrides'] ?? null;
  if (overrides !== null && !isRecord(overrides)) throw new ConfigError(`parseSaeRegistry: ${where}: 'config_overrides' must be a mapping`);
  const saesMap: Record<string, string> = {};
  const varExplained: Record<string, number> = {};
  const l0: Record<string, number> = {};
  const np: Record<string, string | null> = {};
  const norm: Record<string, number | undefined> = {};
  for (const info of value['saes'] as unknown[]) {
    if (!isRecord(info) || typeof info['id'] !== 'string' || typeof info['path'] !== 'string') {
      throw new ConfigError(`parseSaeRegistry: ${where}: every 'saes' entry needs string 'id' and 'path', got ${JSON.stringify(info)}`);
    }
    const id = info['id'];
    saesMap[id] = info['path'];
    varExplained[id] = typeof info['variance_explained'] === 'number' ? info['variance_explained'] : 1.0;
    l0[id] = typeof info['l0'] === 'number' ? info['l0'] : 0.0;
    np[id] = typeof info['neuronpedia'] === 'string' ? info['neuronpedia'] : null;
    norm[id] = typeof info['norm_scaling_factor'] === 'number' ? info['norm_scaling_factor'] : undefined;
  }
  return {
    release,
    repoId: value['repo_id'],
    model: typeof value['model'] === 'string' ? value['model'] : '',
    conversionFunc: conv,
    saesMap,
    expectedVarExplained: varExplained,
    expectedL0: l0,
    neuronpediaId: np,
    configOverrides: overrides,
    normScalingFactor: norm,
  };
}

/**
 * Parse registry text in SAELens's `pretrained_saes.yaml` format (YAML, or JSON, which is YAML).
 * @param text The file's text.
 * @param source For messages (a path or URL).
 * @returns Release name → lookup.
 * @throws {@link "tfjs-lens"!ConfigError} for invalid YAML, or a release without `saes` / `repo_id` or with a
 *   malformed entry (naming it).
 * @example const registry = parseSaeRegistry(readFileSync('pretrained_saes.yaml', 'utf8'));
 * @category SAE
 */
export function parseSaeRegistry(text: string, source = 'pretrained_saes.yaml'): SaeRegistry {
  let data: unknown;
  try {
    data = parseYaml(text);
  } catch (err) {
    throw new ConfigError(`parseSaeRegistry: ${source} is not valid YAML — ${(err as Error).message}`);
  }
  if (!isRecord(data)) throw new ConfigError(`parseSaeRegistry: ${source} must map release names to releases`);
  const out = new Map<string, PretrainedSaeLookup>();
  for (const [release, value] of Object.entries(data)) out.set(release, lookupOf(release, value, source));
  return out;
}

/**
 * Load a registry: the shipped one, a file path, an http(s) URL, or an already parsed registry.
 * @param registry Path, URL or registry (default {@link defaultSaeRegistryPath}).
 * @param opts `fetch` for URLs (default `globalThis.fetch`).
 * @returns The registry.
 * @throws {@link "tfjs-lens"!NotFoundError} for a missing file or a URL that does not answer 200; {@link "tfjs-lens"!ConfigError}
 *   for a malformed registry.
 * @example const registry = await loadSaeRegistry('https://example.org/my_saes.yaml');
 * @category SAE
 */
export async function loadSaeRegistry(
  registry: string | URL | SaeRegistry = defaultSaeRegistryPath(),
  opts: {
    /** Fetch implementation for URLs. */
    readonly fetch?: typeof globalThis.fetch;
  } = {},
): Promise<SaeRegistry> {
  if (typeof registry !== 'string' && !(registry instanceof URL)) return registry;
  const where = String(registry);
  if (registry instanceof URL || /^https?:\/\//.test(registry)) {
    let res: Response;
    try {
      res = await (opts.fetch ?? globalThis.fetch)(where);
    } catch (err) {
      throw new NotFoundError(`loadSaeRegistry: could not fetch ${where} — ${(err as Error).message}`);
    }
    if (!res.ok) throw new NotFoundError(`loadSaeRegistry: ${where} answered HTTP ${res.status} [check the registry URL]`);
    return parseSaeRegistry(await res.text(), where);
  }
  let text: string;
  let key = '';
  try {
    const st = await stat(where);
    key = `${st.size}:${st.mtimeMs}`;
    const hit = parsedFiles.get(where);
    if (hit !== undefined && hit.key === key) return hit.registry;
    text = await readFile(where, 'utf8');
  } catch (err) {
    throw new NotFoundError(`loadSaeRegistry: cannot read ${where} — ${(err as NodeJS.ErrnoException).code ?? (err as Error).message} [pass the path of a pretrained_saes.yaml]`);
  }
  const parsed = parseSaeRegistry(text, where);
  parsedFiles.set(where, { key, registry: parsed });
  return parsed;
}

/** Parsed registry files by path, reused while the file's size and mtime are unchanged (the shipped
 * registry is 360 kB of YAML). Lookups are read-only, so sharing them is safe. */
const parsedFiles = new Map<string, { readonly key: string; readonly registry: SaeRegistry }>();

function shortList(names: readonly string[]): string {
  return names.length > 5 ? `${names.slice(0, 5).join(', ')}, … (${names.length} in all)` : names.join(', ');
}

/**
 * The repo id and folder of an SAE (SAELens `get_repo_id_and_folder_name`): from the registry when
 * the release is in it; otherwise the release is taken as a hub repo id and the SAE id as the folder.
 * @param registry The registry.
 * @param release Release name (or a hub repo id `org/name`).
 * @param saeId SAE id within the release (or a folder of the repo).
 * @returns `[repoId, folderName]`.
 * @throws {@link "tfjs-lens"!ConfigError} when the release is in the registry but lacks the SAE id, naming the
 *   nearest ids (and the `-canonical` release for Gemma Scope).
 * @example repoIdAndFolderName(registry, 'gpt2-small-res-jb', 'blocks.8.hook_resid_pre');
 * @category SAE
 */
export function repoIdAndFolderName(registry: SaeRegistry, release: string, saeId: string): [string, string] {
  const info = registry.get(release);
  if (info === undefined) return [release, saeId];
  const folder = info.saesMap[saeId];
  if (folder !== undefined) return [info.repoId, folder];
  const ids = Object.keys(info.saesMap);
  const canonical = registry.get(`${release}-canonical`);
  const hint =
    release.includes('gemma-scope') && !release.includes('canonical') && canonical !== undefined
      ? ` If you don't want to specify an L0 value, consider release '${release}-canonical' (ids ${shortList(Object.keys(canonical.saesMap))}).`
      : '';
  throw new ConfigError(
    `SAE.fromPretrained: id '${saeId}' not found in release '${release}' — nearest: ${nearestNames(saeId, ids).join(', ')}; ` +
      `valid ids are ${shortList(ids)}.${hint}`,
  );
}

/**
 * Check a release name before anything is downloaded (SAELens `from_pretrained`'s validation): a
 * release must be in the registry, or look like a hub repo id (`org/name`).
 * @param registry The registry.
 * @param release Release name.
 * @returns Nothing.
 * @throws {@link "tfjs-lens"!ConfigError} naming the nearest release names.
 * @example checkRelease(registry, 'gpt2-small-res-jb');
 * @category SAE
 */
export function checkRelease(registry: SaeRegistry, release: string): void {
  if (registry.has(release) || release.includes('/')) return;
  throw new ConfigError(
    `SAE.fromPretrained: release '${release}' is not in the pretrained SAE registry and is not a hub repo id (org/name) — ` +
      `nearest: ${nearestNames(release, registry.keys()).join(', ')} [pass opts.registry to use another registry file]`,
  );
}

/**
 * Fields applied over the SAE's cfg.json (SAELens `get_config_overrides`): the release's
 * `config_overrides` plus `neuronpedia_id`.
 * @param registry The registry.
 * @param release Release name.
 * @param saeId SAE id.
 * @returns The overrides ({} for a release not in the registry).
 * @throws Never.
 * @example configOverrides(registry, 'gpt2-small-res-jb', 'blocks.0.hook_resid_pre').neuronpedia_id;
 * @category SAE
 */
export function configOverrides(registry: SaeRegistry, release: string, saeId: string): Record<string, unknown> {
  const info = registry.get(release);
  if (info === undefined) return {};
  const out: Record<string, unknown> = { ...(info.configOverrides ?? {}) };
  if (Object.hasOwn(info.neuronpediaId, saeId)) out['neuronpedia_id'] = info.neuronpediaId[saeId];
  return out;
}
