/**
 * Resolve a model name or path to a local checkpoint directory. Local folders are used as is;
 * hub ids (`gpt2`, `org/name`) are looked up in, and downloaded into, the Hugging Face cache
 * (`huggingface_hub` layout, so checkpoints fetched by Python tools are reused). No global state.
 */
import { stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { ConfigError, HubError, NotFoundError } from '../errors.js';
import type { OptionKeys } from '../utils/options.js';
import { checkSnapshot, repoCacheDir, type CorruptFile } from './hub_cache.js';
import { downloadModel, removeCorrupt } from './hub_download.js';
import { hubRateLimit, hubTimeoutMs } from './hub_timeout.js';

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
  /**
   * Minimum download rate in bytes per second, averaged over `rateWindowMs`: a body that delivers
   * less (e.g. a server dripping a byte every second, which the idle timeout never catches) is
   * aborted with a `HubError`. 0 disables. Default `$TFJS_LENS_HUB_MIN_RATE`, else 1000.
   */
  minBytesPerSecond?: number;
  /** Window of the minimum-rate check in milliseconds. Default `$TFJS_LENS_HUB_RATE_WINDOW` (seconds), else 60 s. */
  rateWindowMs?: number;
  /** No progress lines on stderr. Default false. */
  quiet?: boolean;
  /** Called on every received chunk and at the end of each file, whatever `quiet` says. */
  onProgress?: (p: { file: string; loaded: number; total?: number }) => void;
}

/** Valid keys of {@link HubOptions}, for option checks of the loaders. */
export const HUB_OPTION_KEYS: OptionKeys<HubOptions> = {
  revision: true, cacheDir: true, endpoint: true, token: true, offline: true, fetch: true, timeoutMs: true, quiet: true, onProgress: true,
  minBytesPerSecond: true, rateWindowMs: true,
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

/** An environment value, or undefined when unset or blank. */
export function envValue(v: string | undefined): string | undefined {
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

/** Longest file name most file systems accept, in bytes (longer gives ENAMETOOLONG). */
const MAX_NAME_BYTES = 255;

/** Why a path segment cannot be a file name, or undefined. */
function segmentProblem(segs: readonly string[]): string | undefined {
  const long = segs.find((s) => Buffer.byteLength(s) > MAX_NAME_BYTES);
  if (long !== undefined) return `a path segment of ${Buffer.byteLength(long)} bytes (at most ${MAX_NAME_BYTES})`;
  return undefined;
}

/** Revisions may contain '/' (`refs/pr/1`) but must stay inside `refs/` and `snapshots/`. */
function validateRevision(revision: string): void {
  const segs = revision.split('/');
  const tooLong = segmentProblem(segs);
  if (tooLong !== undefined) {
    throw new ConfigError(`resolveModelDir: invalid revision ${JSON.stringify(revision.slice(0, 60) + '…')} — got ${tooLong}`);
  }
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
    const tooLong = segmentProblem(segs);
    if (tooLong !== undefined) {
      throw new ConfigError(`resolveModelDir: invalid extraFiles entry ${JSON.stringify(f.slice(0, 60) + '…')} — got ${tooLong}`);
    }
    if (
      f === '' ||
      f.startsWith('/') ||
      f.includes('\\') ||
      [...f].some((c) => c.charCodeAt(0) < 0x20) ||
      segs.some((s) => s === '' || s === '.' || s === '..')
    ) {
      throw new ConfigError(
        `resolveModelDir: invalid extraFiles entry ${JSON.stringify(f)} — expected a relative file name inside the repo`,
      );
    }
  }
}

/** The cache root and endpoint must be usable before any I/O: no NUL byte, a valid URL. */
function validatePaths(cacheDir: string, endpoint: string): void {
  if (cacheDir.includes('\0')) {
    throw new ConfigError(`resolveModelDir: invalid cacheDir ${JSON.stringify(cacheDir)} — contains a NUL byte`);
  }
  let url: URL | undefined;
  try {
    url = new URL(endpoint);
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new ConfigError(`resolveModelDir: invalid endpoint ${JSON.stringify(endpoint)} — expected an http(s) URL (HF_ENDPOINT or endpoint)`);
  }
}

/** The cache root (and the repo folder) must be directories, or not exist yet; a file in the way is a ConfigError. */
async function checkCacheDir(cacheDir: string, repoDir: string): Promise<void> {
  for (const p of [cacheDir, repoDir]) {
    try {
      if (!(await stat(p)).isDirectory()) {
        throw new ConfigError(`resolveModelDir: the hub cache path ${p} is not a directory [remove it, or set cacheDir / HF_HUB_CACHE elsewhere]`);
      }
    } catch (err) {
      if (err instanceof ConfigError) throw err;
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return; // created on the first download
      throw new ConfigError(
        `resolveModelDir: the hub cache path ${p} is unusable — ${code ?? (err as Error).message} ` +
          '(a parent is a file, or the name is too long) [set cacheDir / HF_HUB_CACHE elsewhere]',
      );
    }
  }
}

/** HubError for corrupt cached files when offline: names each file and the path to delete. */
function corruptOffline(repoId: string, revision: string, corrupt: readonly CorruptFile[], why: string): HubError {
  const list = corrupt.map((c) => `${c.file}: ${c.problem} — delete ${c.real}${c.real === c.path ? '' : ` and ${c.path}`}`);
  return new HubError(
    `resolveModelDir: the cached copy of ${repoId}@${revision} is corrupt and ${why} — ${list.join('; ')} ` +
      '[delete the named files and load once online to download them again]',
  );
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
 * Every cached file is verified before use (see `hub_verify.ts`): a corrupt one is downloaded again
 * when online, and named (with the path to delete) when offline.
 * @throws {@link "tfjs-lens"!ConfigError} for an invalid repo id, revision or extra file name (NUL or control bytes,
 *   a path segment over 255 bytes; before any I/O), a cache path that is a file (naming it), an invalid endpoint,
 *   or an invalid `timeoutMs` / `HF_HUB_DOWNLOAD_TIMEOUT` / `minBytesPerSecond` / `TFJS_LENS_HUB_MIN_RATE` (before any request)
 * @throws {@link "tfjs-lens"!NotFoundError} when offline and the cache lacks the files (lists what and where)
 * @throws {@link "tfjs-lens"!HubError} for HTTP errors (`status` set), network errors, idle timeouts, too-slow
 *   downloads, truncated, empty, HTML or unparsable bodies, checksum mismatches, malformed redirects, and (offline)
 *   corrupt cached files (naming the file to delete)
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
  const cacheDir = opts.cacheDir ?? hubCacheDir();
  const endpoint = (opts.endpoint ?? envValue(process.env['HF_ENDPOINT']) ?? 'https://huggingface.co').replace(/\/+$/, '');
  validatePaths(cacheDir, endpoint);
  const repoDir = repoCacheDir(resolve(cacheDir), repoId);
  await checkCacheDir(resolve(cacheDir), repoDir);
  const cached = await checkSnapshot(repoDir, revision, extraFiles);
  if (cached.complete && cached.snapshotDir !== undefined) {
    return { dir: cached.snapshotDir, source: 'cache', repoId, revision, commit: cached.commit };
  }
  const offline = opts.offline ?? envOffline();
  if (offline) {
    const why = opts.offline === true ? 'offline: true was passed' : 'HF_HUB_OFFLINE is set';
    if (cached.corrupt.length > 0) throw corruptOffline(repoId, revision, cached.corrupt, why);
    throw new NotFoundError(
      `resolveModelDir: ${repoId}@${revision} is not in the local cache and ${why} — missing ${cached.missing.join(', ')}; ` +
        `looked in ${cached.snapshotDir ?? repoDir} [download it once online, or pass a local directory]`,
    );
  }
  const timeoutMs = hubTimeoutMs(opts.timeoutMs);
  const rate = hubRateLimit(opts.minBytesPerSecond, opts.rateWindowMs);
  // Online: a corrupt cached file is removed and downloaded again.
  for (const c of cached.corrupt) await removeCorrupt(repoDir, c.path, c.real);
  const { commit, dir } = await downloadModel(
    {
      timeoutMs,
      rate,
      endpoint,
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
