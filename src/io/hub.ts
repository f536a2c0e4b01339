/**
 * Resolve a model name or path to a local checkpoint directory. Local folders are used as is;
 * hub ids (`gpt2`, `org/name`) are looked up in, and downloaded into, the Hugging Face cache
 * (`huggingface_hub` layout, so checkpoints fetched by Python tools are reused). No global state.
 */
import { stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { ConfigError, NotFoundError } from '../errors.js';
import type { OptionKeys } from '../utils/options.js';
import { checkSnapshot, repoCacheDir } from './hub_cache.js';
import { downloadModel } from './hub_download.js';
import { hubTimeoutMs } from './hub_timeout.js';

/** Options for {@link resolveModelDir}. Every default is read from the environment at call time. @category IO */
export interface HubOptions {
  /** Branch, tag or 40-hex commit. Default `'main'`. */
  revision?: string;
  /** Hub cache root. Default {@link hubCacheDir}(). */
  cacheDir?: string;
  /** Hub base URL. Default `$HF_ENDPOINT`, else `https://huggingface.co`. */
  endpoint?: string;
  /** Access token, sent as `Authorization: Bearer` to the endpoint only. Default `$HF_TOKEN`. */
  token?: string;
  /** Never touch the network. Default: `$HF_HUB_OFFLINE` is `1`/`true`/`yes`/`on`. */
  offline?: boolean;
  /** Fetch implementation (tests, proxies). Default `globalThis.fetch`. */
  fetch?: typeof globalThis.fetch;
  /**
   * Idle timeout in milliseconds: a download is aborted with a `HubError` when no response headers
   * or no body bytes arrive for this long (the whole download may take longer). Default
   * `$HF_HUB_DOWNLOAD_TIMEOUT` (seconds, as in `huggingface_hub`), else 30 s.
   */
  timeoutMs?: number;
  /** No progress lines on stderr. Default false. */
  quiet?: boolean;
  /** Called on every received chunk and at the end of each file, whatever `quiet` says. */
  onProgress?: (p: { file: string; loaded: number; total?: number }) => void;
}

/** Valid keys of {@link HubOptions}, for option checks of the loaders. */
export const HUB_OPTION_KEYS: OptionKeys<HubOptions> = {
  revision: true, cacheDir: true, endpoint: true, token: true, offline: true, fetch: true, timeoutMs: true, quiet: true, onProgress: true,
};

/** Where a model directory came from. @category IO */
export interface ResolvedModel {
  /** Directory holding config.json, the weights and tokenizer files. */
  readonly dir: string;
  /** `local`: a folder given by path; `cache`: already in the hub cache; `hub`: just downloaded. */
  readonly source: 'local' | 'cache' | 'hub';
  /** Hub repo id, e.g. `gpt2` (absent for `local`). */
  readonly repoId?: string;
  /** Branch, tag or commit that was asked for (default `'main'`; absent for `local`). */
  readonly revision?: string;
  /** Commit hash of the snapshot (the revision string when the hub sent none). */
  readonly commit?: string;
}

function envValue(v: string | undefined): string | undefined {
  return v === undefined || v.trim() === '' ? undefined : v;
}

function expandHome(p: string, env: NodeJS.ProcessEnv): string {
  if (p !== '~' && !p.startsWith('~/')) return p;
  return join(envValue(env['HOME']) ?? envValue(env['USERPROFILE']) ?? homedir(), p.slice(1));
}

/**
 * The Hugging Face hub cache directory, resolved as `huggingface_hub` does.
 * @param env - environment to read (default `process.env`)
 * @returns `$HF_HUB_CACHE`, else `$HF_HOME/hub`, else `$XDG_CACHE_HOME/huggingface/hub`, else `~/.cache/huggingface/hub`
 * @throws nothing
 * @example
 * hubCacheDir({ HF_HOME: '/data/hf' }); // '/data/hf/hub'
 * @category IO
 */
export function hubCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const hubCache = envValue(env['HF_HUB_CACHE']);
  if (hubCache !== undefined) return expandHome(hubCache, env);
  const hfHome = envValue(env['HF_HOME']);
  if (hfHome !== undefined) return join(expandHome(hfHome, env), 'hub');
  const xdg = envValue(env['XDG_CACHE_HOME']);
  if (xdg !== undefined) return join(expandHome(xdg, env), 'huggingface', 'hub');
  return join(expandHome('~', env), '.cache', 'huggingface', 'hub');
}

/** Why `id` is not a valid repo id, or undefined when it is. */
function repoIdProblem(id: string): string | undefined {
  if (id === '') return 'an empty string';
  if (id.includes('\\')) return 'a backslash';
  if (id.startsWith('/') || id.startsWith('~') || /^[A-Za-z]:/.test(id)) return 'an absolute path, but no such directory exists';
  const segments = id.split('/');
  if (segments.length > 2) return `${segments.length - 1} '/' separators (at most one: org/name)`;
  if (segments.some((s) => s === '')) return 'an empty path segment';
  if (id.includes('..')) return "'..' (path traversal)";
  const bad = /[^A-Za-z0-9._-]/.exec(segments.join(''));
  if (bad !== null) return `the character ${JSON.stringify(bad[0])}`;
  if (segments.some((s) => s === '.' || s.length > 96)) return "a '.' segment or a part longer than 96 characters";
  if (id.includes('--')) return "'--' (reserved by the cache folder naming)";
  return undefined;
}

/**
 * Check that `id` is a safe hub repo id (`name` or `org/name`) before it becomes a URL or cache path.
 * @param id - repo id
 * @returns nothing
 * @throws {@link "tfjs-lens"!ConfigError} for empty ids, '..', absolute paths, backslashes, empty segments,
 *   characters outside `[A-Za-z0-9._-]` or more than one '/'
 * @example
 * validateRepoId('openai-community/gpt2'); // ok
 * validateRepoId('../etc'); // throws ConfigError
 * @category IO
 */
export function validateRepoId(id: string): void {
  const problem = repoIdProblem(id);
  if (problem === undefined) return;
  throw new ConfigError(
    `validateRepoId: invalid model id ${JSON.stringify(id)} — expected "name" or "org/name" of letters, digits, '.', '_', '-'; ` +
      `got ${problem} [to load a local checkpoint, pass the path of an existing directory]`,
  );
}

/** Revisions may contain '/' (`refs/pr/1`) but must stay inside `refs/` and `snapshots/`. */
function validateRevision(revision: string): void {
  const segs = revision.split('/');
  if (
    revision === '' ||
    revision.startsWith('/') ||
    revision.includes('\\') ||
    revision.includes('..') ||
    /\s/.test(revision) ||
    [...revision].some((c) => c.charCodeAt(0) < 0x20) ||
    segs.some((s) => s === '' || s === '.')
  ) {
    throw new ConfigError(
      `resolveModelDir: invalid revision ${JSON.stringify(revision)} — expected a branch, tag or commit ` +
        "without '..', backslashes, a leading '/' or empty segments",
    );
  }
}

/** Optional file names must be plain relative paths. */
function validateExtraFiles(files: readonly string[]): void {
  for (const f of files) {
    const segs = f.split('/');
    if (f === '' || f.startsWith('/') || f.includes('\\') || segs.some((s) => s === '' || s === '.' || s === '..')) {
      throw new ConfigError(
        `resolveModelDir: invalid extraFiles entry ${JSON.stringify(f)} — expected a relative file name inside the repo`,
      );
    }
  }
}

function envOffline(): boolean {
  return /^(1|true|yes|on)$/i.test((process.env['HF_HUB_OFFLINE'] ?? '').trim());
}

async function isDirectory(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Resolve a local directory or hub model id to a directory with config.json + safetensors weights.
 * Order: existing directory → complete hub-cache snapshot → download (unless offline).
 * @param nameOrPath - a directory path, or a hub id such as `gpt2` / `openai-community/gpt2`
 * @param opts - hub options, plus `extraFiles`: more optional repo files to fetch (404 is fine), and
 *   `checkConfig`: called with the downloaded config.json path before any weight is fetched (throw to refuse)
 * @returns the directory and where it came from
 * @throws {@link "tfjs-lens"!ConfigError} for an invalid repo id, revision or extra file name (before any I/O), or an
 *   invalid `timeoutMs` / `HF_HUB_DOWNLOAD_TIMEOUT` (before any request)
 * @throws {@link "tfjs-lens"!NotFoundError} when offline and the cache lacks the files (lists what and where)
 * @throws {@link "tfjs-lens"!HubError} for HTTP errors (`status` set), network errors, idle timeouts and truncated downloads
 * @example
 * const { dir, source } = await resolveModelDir('gpt2'); // source: 'hub' first time, then 'cache'
 * const tensors = await loadCheckpointTensors(dir);
 * @category IO
 */
export async function resolveModelDir(
  nameOrPath: string,
  opts: HubOptions & { extraFiles?: readonly string[]; checkConfig?: (configPath: string) => Promise<void> } = {},
): Promise<ResolvedModel> {
  if (await isDirectory(nameOrPath)) return { dir: resolve(nameOrPath), source: 'local' };
  validateRepoId(nameOrPath);
  const revision = opts.revision ?? 'main';
  validateRevision(revision);
  const extraFiles = opts.extraFiles ?? [];
  validateExtraFiles(extraFiles);
  const repoId = nameOrPath;
  const repoDir = repoCacheDir(resolve(opts.cacheDir ?? hubCacheDir()), repoId);
  const cached = await checkSnapshot(repoDir, revision, extraFiles);
  if (cached.complete && cached.snapshotDir !== undefined) {
    return { dir: cached.snapshotDir, source: 'cache', repoId, revision, commit: cached.commit };
  }
  const offline = opts.offline ?? envOffline();
  if (offline) {
    const why = opts.offline === true ? 'offline: true was passed' : 'HF_HUB_OFFLINE is set';
    throw new NotFoundError(
      `resolveModelDir: ${repoId}@${revision} is not in the local cache and ${why} — missing ${cached.missing.join(', ')}; ` +
        `looked in ${cached.snapshotDir ?? repoDir} [download it once online, or pass a local directory]`,
    );
  }
  const timeoutMs = hubTimeoutMs(opts.timeoutMs);
  const { commit, dir } = await downloadModel(
    {
      timeoutMs,
      endpoint: (opts.endpoint ?? envValue(process.env['HF_ENDPOINT']) ?? 'https://huggingface.co').replace(/\/+$/, ''),
      token: opts.token ?? envValue(process.env['HF_TOKEN']),
      fetch: opts.fetch ?? globalThis.fetch,
      repoId,
      quiet: opts.quiet === true,
      onProgress: opts.onProgress,
      repoDir,
      revision,
    },
    extraFiles,
    opts.checkConfig,
  );
  return { dir, source: 'hub', repoId, revision, commit };
}
