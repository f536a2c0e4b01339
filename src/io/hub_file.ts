/**
 * One file of a Hugging Face repo, through our hub cache (`huggingface_hub.hf_hub_download`): the
 * cached snapshot file when `refs/{revision}` names a commit whose snapshot holds it (verified),
 * else a download into `blobs/` linked into `snapshots/{commit}/` (same layout, locks, size and hash
 * checks as `resolveModelDir`, built from the `src/io/hub_*` pieces). SAE repos hold many SAEs in
 * sub-folders, so SAE loading fetches files one by one instead of a whole model checkpoint.
 */
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ConfigError, HubError, NotFoundError } from '../errors.js';
import { envValue, hubCacheDir, validateRepoId, type HubOptions } from './hub.js';
import { fileExists, isCommitHash, linkIntoSnapshot, markNoExist, repoCacheDir, writeRef } from './hub_cache.js';
import { cacheWrite, removeCorrupt } from './hub_download.js';
import { fetchFollowing, httpError, storeBlob, type HttpContext } from './hub_http.js';
import { cleanStaleDownloads } from './hub_lock.js';
import { hubRateLimit, hubTimeoutMs } from './hub_timeout.js';
import { verifyCachedFile } from './hub_verify.js';

/** Where a downloaded file came from. */
export interface HubFile {
  /** The snapshot path, or undefined when the file is optional and the repo lacks it. */
  readonly path: string | undefined;
  /** `cache`: served from the hub cache without a request; `hub`: fetched now. */
  readonly source: 'cache' | 'hub';
}

/** Repo-relative file names: no absolute paths, '..', backslashes or empty segments. */
function checkFileName(file: string): void {
  const segs = file.split('/');
  if (file === '' || file.startsWith('/') || file.includes('\\') || [...file].some((c) => c.charCodeAt(0) < 0x20) || segs.some((s) => s === '' || s === '.' || s === '..')) {
    throw new ConfigError(`hubDownloadFile: invalid file name ${JSON.stringify(file)} — expected a relative path inside the repo (check the registry's 'path')`);
  }
}

async function readRef(repoDir: string, revision: string): Promise<string | undefined> {
  if (isCommitHash(revision)) return revision;
  try {
    const ref = (await readFile(join(repoDir, 'refs', revision), 'utf8')).trim();
    return /^[A-Za-z0-9._-]+$/.test(ref) && ref !== '.' && ref !== '..' ? ref : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Download (or find in the cache) one file of a hub repo.
 * @param repoId Repo id, e.g. `jbloom/GPT2-Small-SAEs-Reformatted`.
 * @param file Repo-relative file name, e.g. `blocks.8.hook_resid_pre/cfg.json`.
 * @param opts Hub options (endpoint, cache, token, offline, fetch, timeouts), `optional`: a 404
 *   returns `path: undefined` (recorded under `.no_exist/`), and `forceDownload`: skip the cache.
 * @returns The snapshot path and whether it came from the cache.
 * @throws {@link "tfjs-lens"!ConfigError} for an invalid repo id or file name; {@link "tfjs-lens"!NotFoundError} when
 *   offline and not cached; {@link "tfjs-lens"!HubError} for HTTP, network, timeout and verification errors.
 * @example const { path } = await hubDownloadFile('jbloom/GPT2-Small-SAEs-Reformatted', 'blocks.8.hook_resid_pre/cfg.json');
 */
export async function hubDownloadFile(
  repoId: string,
  file: string,
  opts: HubOptions & { readonly optional?: boolean; readonly forceDownload?: boolean } = {},
): Promise<HubFile> {
  validateRepoId(repoId);
  checkFileName(file);
  const revision = opts.revision ?? 'main';
  if (revision === '' || revision.includes('..') || revision.includes('\\') || revision.startsWith('/')) {
    throw new ConfigError(`hubDownloadFile: invalid revision ${JSON.stringify(revision)} — expected a branch, tag or commit`);
  }
  const repoDir = repoCacheDir(resolve(opts.cacheDir ?? hubCacheDir()), repoId);
  const optional = opts.optional === true;
  const known = await readRef(repoDir, revision);
  if (known !== undefined && opts.forceDownload !== true) {
    const path = join(repoDir, 'snapshots', known, file);
    if (await fileExists(path)) {
      const { problem, real } = await verifyCachedFile(repoDir, path, file, !optional);
      if (problem === undefined) return { path, source: 'cache' };
      if (opts.offline !== true) await removeCorrupt(repoDir, path, real);
      else throw new HubError(`hubDownloadFile: the cached ${file} of ${repoId}@${revision} is corrupt (${problem}) — delete ${real} and load once online`);
    } else if (optional && (await fileExists(join(repoDir, '.no_exist', known, file)))) {
      return { path: undefined, source: 'cache' };
    }
  }
  const offline = opts.offline ?? /^(1|true|yes|on)$/i.test((process.env['HF_HUB_OFFLINE'] ?? '').trim());
  if (offline) {
    if (optional) return { path: undefined, source: 'cache' };
    throw new NotFoundError(
      `hubDownloadFile: ${repoId}@${revision}/${file} is not in the local cache (${repoDir}) and the hub is offline ` +
        '(offline: true or HF_HUB_OFFLINE) [download it once online]',
    );
  }
  const endpoint = (opts.endpoint ?? envValue(process.env['HF_ENDPOINT']) ?? 'https://huggingface.co').replace(/\/+$/, '');
  if (!/^https?:\/\//.test(endpoint)) throw new ConfigError(`hubDownloadFile: invalid endpoint ${JSON.stringify(endpoint)} — expected an http(s) URL`);
  const ctx: HttpContext = {
    endpoint,
    token: opts.token ?? envValue(process.env['HF_TOKEN']),
    fetch: opts.fetch ?? globalThis.fetch,
    timeoutMs: hubTimeoutMs(opts.timeoutMs),
    rate: hubRateLimit(opts.minBytesPerSecond, opts.rateWindowMs),
    repoId,
    quiet: opts.quiet === true,
    onProgress: opts.onProgress,
  };
  await cleanStaleDownloads(join(repoDir, 'blobs'));
  const url = `${endpoint}/${repoId}/resolve/${encodeURIComponent(revision)}/${file.split('/').map(encodeURIComponent).join('/')}`;
  const { res, meta, idle } = await fetchFollowing(ctx, url);
  const commit = isCommitHash(revision) ? revision : (meta.commit ?? revision);
  const write = <T>(what: string, fn: () => Promise<T>): Promise<T> => cacheWrite(what, fn, 'hubDownloadFile');
  if (!res.ok) {
    await res.body?.cancel().catch(() => undefined);
    if (res.status === 404 && optional) {
      if (isCommitHash(commit)) await write(`record that ${file} does not exist`, () => markNoExist(repoDir, commit, file));
      if (!isCommitHash(revision) && isCommitHash(commit)) await write(`write refs/${revision}`, () => writeRef(repoDir, revision, commit));
      return { path: undefined, source: 'hub' };
    }
    throw httpError(res.status, res.statusText, url, ctx);
  }
  const blob = await storeBlob(ctx, res, meta, join(repoDir, 'blobs'), file, url, idle, !optional);
  const path = await write(`link ${file} into the snapshot of ${commit}`, () => linkIntoSnapshot(repoDir, commit, file, blob));
  if (!isCommitHash(revision)) await write(`write refs/${revision}`, () => writeRef(repoDir, revision, commit));
  return { path, source: 'hub' };
}
