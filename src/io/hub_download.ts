/**
 * Download a model repo's files into the Hugging Face cache layout: config.json, the safetensors
 * weights (single file, or index + shards), then optional tokenizer/generation files. Mirrors
 * `huggingface_hub.hf_hub_download` (blobs by etag, snapshot symlinks, refs, `.no_exist`).
 */
import { readFile, rm } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { HubError } from '../errors.js';
import { parseShardIndex, SAFETENSORS_FILE, SAFETENSORS_INDEX_FILE } from './checkpoint.js';
import { fileExists, isCommitHash, linkIntoSnapshot, markNoExist, OPTIONAL_FILES, writeRef } from './hub_cache.js';
import { fetchFollowing, httpError, storeBlob, type HttpContext } from './hub_http.js';
import { cleanStaleDownloads } from './hub_lock.js';
import { dropStamp, verifyCachedFile } from './hub_verify.js';

/** Everything a repo download needs. @category IO */
interface DownloadContext extends HttpContext {
  /** `{cache}/models--org--name`. */
  readonly repoDir: string;
  /** Revision requested by the caller (branch, tag or commit). */
  readonly revision: string;
}

/** Outcome of one file. */
interface FileResult {
  readonly found: boolean;
  /** Commit from `x-repo-commit` (fallback: the revision in the URL). */
  readonly commit: string;
}

/** `{endpoint}/{repoId}/resolve/{revision}/{file}` with the revision and each path segment encoded. */
function resolveUrl(ctx: DownloadContext, revision: string, file: string): string {
  const path = file.split('/').map(encodeURIComponent).join('/');
  return `${ctx.endpoint}/${ctx.repoId}/resolve/${encodeURIComponent(revision)}/${path}`;
}

/**
 * Fetch one file into `blobs/` and link it into `snapshots/{commit}/`.
 * @param ctx - download context
 * @param file - repo-relative file name
 * @param urlRevision - revision to put in the URL (the commit once known, for consistency)
 * @param snapshotCommit - snapshot directory to link into; default: the response's commit
 * @param optional - when true a 404 returns `{found: false}` instead of throwing
 */
async function downloadFile(
  ctx: DownloadContext,
  file: string,
  urlRevision: string,
  snapshotCommit: string | undefined,
  optional: boolean,
): Promise<FileResult> {
  const url = resolveUrl(ctx, urlRevision, file);
  const { res, meta, idle } = await fetchFollowing(ctx, url);
  const commit = snapshotCommit ?? meta.commit ?? urlRevision;
  if (!res.ok) {
    await res.body?.cancel().catch(() => undefined);
    if (res.status === 404 && optional) return { found: false, commit };
    throw httpError(res.status, res.statusText, url, ctx);
  }
  const blob = await storeBlob(ctx, res, meta, join(ctx.repoDir, 'blobs'), file, url, idle, !optional);
  await cacheWrite(`link ${file} into ${join(ctx.repoDir, 'snapshots', commit)}`, () => linkIntoSnapshot(ctx.repoDir, commit, file, blob));
  return { found: true, commit };
}

/**
 * Run a cache write; fs errors become a HubError naming what was written where.
 * @param fn The public function named in the message.
 */
export async function cacheWrite<T>(what: string, write: () => Promise<T>, fn = 'resolveModelDir'): Promise<T> {
  try {
    return await write();
  } catch (err) {
    const e = new HubError(`${fn}: could not ${what} — ${(err as Error).message} [check that the cache directory is writable]`);
    e.cause = err;
    throw e;
  }
}

/**
 * Remove a corrupt cached file so it is downloaded again: the snapshot entry, and the file it
 * points at when that is a blob of this repo (with its verification stamp).
 * @param repoDir - repo cache folder
 * @param path - snapshot path
 * @param real - resolved path (the blob)
 * @returns nothing
 * @throws {@link "tfjs-lens"!HubError} when the files cannot be removed
 * @example
 * for (const c of cached.corrupt) await removeCorrupt(repoDir, c.path, c.real);
 * @category IO
 */
export async function removeCorrupt(repoDir: string, path: string, real: string): Promise<void> {
  await cacheWrite(`remove the corrupt cached file ${real}`, async () => {
    await dropStamp(repoDir, real);
    if (real.startsWith(join(repoDir, 'blobs') + sep)) await rm(real, { force: true });
    await rm(path, { force: true });
  });
}

/** Downloads after config.json: skip files the snapshot already has. */
class SnapshotFiller {
  constructor(
    private readonly ctx: DownloadContext,
    readonly commit: string,
  ) {}

  get dir(): string {
    return join(this.ctx.repoDir, 'snapshots', this.commit);
  }

  /** Make sure `file` is in the snapshot and verified; returns false when optional and absent upstream. */
  async ensure(file: string, optional: boolean): Promise<boolean> {
    const path = join(this.dir, file);
    if (await fileExists(path)) {
      const { problem, real } = await verifyCachedFile(this.ctx.repoDir, path, file, !optional);
      if (problem === undefined) return true;
      await removeCorrupt(this.ctx.repoDir, path, real);
    }
    const urlRev = isCommitHash(this.commit) ? this.commit : this.ctx.revision;
    const r = await downloadFile(this.ctx, file, urlRev, this.commit, optional);
    if (!r.found && isCommitHash(this.commit)) {
      await cacheWrite(`record that ${file} does not exist`, () => markNoExist(this.ctx.repoDir, this.commit, file));
    }
    return r.found;
  }
}

/** Single `model.safetensors`, else the index and every shard it names. */
async function ensureWeights(ctx: DownloadContext, filler: SnapshotFiller): Promise<void> {
  if (await filler.ensure(SAFETENSORS_FILE, true)) return;
  if (!(await filler.ensure(SAFETENSORS_INDEX_FILE, true))) {
    throw new HubError(
      `resolveModelDir: no safetensors weights for ${ctx.repoId}@${ctx.revision} — expected ${SAFETENSORS_FILE} or ` +
        `${SAFETENSORS_INDEX_FILE} under ${resolveUrl(ctx, ctx.revision, '')} (both 404) ` +
        '[pytorch_model.bin-only repos are not supported: convert the checkpoint to safetensors]',
      404,
    );
  }
  const indexPath = join(filler.dir, SAFETENSORS_INDEX_FILE);
  let json: unknown;
  try {
    json = JSON.parse(await readFile(indexPath, 'utf8'));
  } catch (err) {
    throw new HubError(`resolveModelDir: downloaded ${SAFETENSORS_INDEX_FILE} is not valid JSON — ${(err as Error).message} (${indexPath})`);
  }
  for (const shard of parseShardIndex(json, indexPath).shards) await filler.ensure(shard, false);
}

/**
 * Download config, weights and optional files of `ctx.repoId@ctx.revision` into the cache.
 * @param ctx - download context
 * @param extraFiles - more optional files to fetch (404 is fine)
 * @returns the commit and its snapshot directory
 * @param checkConfig - called with the config.json path before any weight is fetched (throw to refuse)
 * @throws {@link "tfjs-lens"!HubError} for HTTP errors, network errors, truncated or unverifiable bodies and cache write errors
 * @example
 * const { dir } = await downloadModel({ ...httpCtx, repoDir, revision: 'main' }, []);
 * @category IO
 */
export async function downloadModel(
  ctx: DownloadContext,
  extraFiles: readonly string[],
  checkConfig?: (configPath: string) => Promise<void>,
): Promise<{ commit: string; dir: string }> {
  // Temp files and locks of killed processes (pid no longer alive) are removed first.
  await cleanStaleDownloads(join(ctx.repoDir, 'blobs'));
  const pinned = isCommitHash(ctx.revision) ? ctx.revision : undefined;
  const cfg = await downloadFile(ctx, 'config.json', ctx.revision, pinned, false);
  const filler = new SnapshotFiller(ctx, cfg.commit);
  // The caller may refuse the model from its config (e.g. too large) before any weight is fetched.
  if (checkConfig !== undefined) await checkConfig(join(filler.dir, 'config.json'));
  await ensureWeights(ctx, filler);
  for (const f of new Set([...OPTIONAL_FILES, ...extraFiles])) await filler.ensure(f, true);
  if (!isCommitHash(ctx.revision)) {
    await cacheWrite(`write refs/${ctx.revision} in ${ctx.repoDir}`, () => writeRef(ctx.repoDir, ctx.revision, cfg.commit));
  }
  return { commit: cfg.commit, dir: filler.dir };
}
