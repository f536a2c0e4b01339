/**
 * The Hugging Face hub cache layout, shared with Python `huggingface_hub` (`file_download.py`):
 * `{cache}/models--{org}--{name}/{refs/{revision}, blobs/{etag}, snapshots/{commit}/{file} -> ../../blobs/{etag}}`
 * plus `.no_exist/{commit}/{file}` markers for optional files the hub does not have.
 */
import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, readFile, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { parseShardIndex, SAFETENSORS_FILE, SAFETENSORS_INDEX_FILE } from './checkpoint.js';
import { verifyCachedFile } from './hub_verify.js';

/** Files fetched when present; a 404 for them is not an error. @category IO */
export const OPTIONAL_FILES: readonly string[] = [
  'tokenizer.json',
  'tokenizer_config.json',
  'special_tokens_map.json',
  'vocab.json',
  'merges.txt',
  'vocab.txt',
  'generation_config.json',
];

/**
 * True for a full 40-hex git commit hash.
 * @param s - a revision
 * @returns whether it is a commit hash
 * @throws nothing
 * @example
 * isCommitHash('main'); // false
 * @category IO
 */
export function isCommitHash(s: string): boolean {
  return /^[0-9a-f]{40}$/.test(s);
}

/**
 * The cache folder of a repo.
 * @param cacheDir - hub cache root
 * @param repoId - a validated repo id
 * @returns `{cache}/models--{org}--{name}` (`models--{name}` without an org)
 * @throws nothing
 * @example
 * repoCacheDir('/c', 'openai-community/gpt2'); // '/c/models--openai-community--gpt2'
 * @category IO
 */
export function repoCacheDir(cacheDir: string, repoId: string): string {
  return join(cacheDir, `models--${repoId.split('/').join('--')}`);
}

/**
 * Unique temp-file suffix, so concurrent writers never share a temp file.
 * @returns `.{pid}.{12 hex chars}`
 * @throws nothing
 * @example
 * const tmp = join(dirname(target), `.tfjs-lens${tempSuffix()}.tmp`);
 * @category IO
 */
export function tempSuffix(): string {
  return `.${process.pid}.${randomBytes(6).toString('hex')}`;
}

/**
 * True when `path` exists and is (or links to) a regular file; broken symlinks count as absent.
 * @param path - file path
 * @returns whether it is a readable regular file
 * @throws nothing
 * @example
 * if (await fileExists(join(snap, 'config.json'))) { … }
 * @category IO
 */
export async function fileExists(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/** Commit hash stored in `refs/{revision}`, if any (and if it is a safe directory name). */
async function readRef(repoDir: string, revision: string): Promise<string | undefined> {
  try {
    const ref = (await readFile(join(repoDir, 'refs', revision), 'utf8')).trim();
    return /^[A-Za-z0-9._-]+$/.test(ref) && ref !== '.' && ref !== '..' ? ref : undefined;
  } catch {
    return undefined;
  }
}

/** A cached file that failed verification. @category IO */
export interface CorruptFile {
  /** Repo-relative name. */
  readonly file: string;
  /** The snapshot path. */
  readonly path: string;
  /** The damaged file itself (the blob a snapshot link points at): the path to delete. */
  readonly real: string;
  /** What is wrong. */
  readonly problem: string;
}

/** Result of looking a revision up in the cache. @category IO */
interface SnapshotCheck {
  /** True when config + weights (+ requested extras) are all present and verified. */
  readonly complete: boolean;
  /** Commit the revision resolves to, when known. */
  readonly commit?: string;
  /** `snapshots/{commit}`, when the commit is known. */
  readonly snapshotDir?: string;
  /** What is missing (relative names), empty when complete. */
  readonly missing: readonly string[];
  /** Present files that failed verification (also counted as missing). */
  readonly corrupt: readonly CorruptFile[];
}

/** Present files are verified ({@link verifyCachedFile}); corrupt ones are recorded and count as missing. */
class SnapshotVerifier {
  readonly missing: string[] = [];
  readonly corrupt: CorruptFile[] = [];
  constructor(
    private readonly repoDir: string,
    private readonly snap: string,
  ) {}

  /** True when `file` is present and verified. */
  async check(file: string, required: boolean): Promise<boolean> {
    const path = join(this.snap, file);
    if (!(await fileExists(path))) return false;
    const { problem, real } = await verifyCachedFile(this.repoDir, path, file, required);
    if (problem === undefined) return true;
    this.corrupt.push({ file, path, real, problem });
    this.missing.push(file);
    return false;
  }
}

/** Weights of a snapshot: single file, else the index and every shard it names. */
async function checkWeights(v: SnapshotVerifier, snap: string): Promise<void> {
  if (await fileExists(join(snap, SAFETENSORS_FILE))) {
    await v.check(SAFETENSORS_FILE, true);
    return;
  }
  const indexPath = join(snap, SAFETENSORS_INDEX_FILE);
  if (!(await fileExists(indexPath))) return void v.missing.push(`${SAFETENSORS_FILE} (or ${SAFETENSORS_INDEX_FILE})`);
  if (!(await v.check(SAFETENSORS_INDEX_FILE, true))) return;
  let shards: readonly string[];
  try {
    shards = parseShardIndex(JSON.parse(await readFile(indexPath, 'utf8')), indexPath).shards;
  } catch {
    return void v.missing.push(`${SAFETENSORS_INDEX_FILE} (unreadable)`);
  }
  for (const shard of shards) if (!(await v.check(shard, true))) v.missing.push(shard);
}

/**
 * Check whether `revision` of a repo is fully cached, verifying every file it needs (hash of
 * hash-named blobs, JSON/safetensors/HTML content checks; cheap when a verification stamp matches).
 * @param repoDir - `{cache}/models--org--name`
 * @param revision - branch/tag name or 40-hex commit
 * @param extraFiles - files the caller asked for: present, or recorded under `.no_exist/`
 * @returns completeness, commit, snapshot dir, the missing names and the corrupt files
 * @throws nothing (unreadable files count as missing)
 * @example
 * const { complete, snapshotDir, corrupt } = await checkSnapshot(repoDir, 'main', []);
 * @category IO
 */
export async function checkSnapshot(
  repoDir: string,
  revision: string,
  extraFiles: readonly string[],
): Promise<SnapshotCheck> {
  const commit = isCommitHash(revision) ? revision : await readRef(repoDir, revision);
  if (commit === undefined) return { complete: false, missing: [`refs/${revision}`], corrupt: [] };
  const snapshotDir = join(repoDir, 'snapshots', commit);
  const v = new SnapshotVerifier(repoDir, snapshotDir);
  if (!(await fileExists(join(snapshotDir, 'config.json')))) v.missing.push('config.json');
  else await v.check('config.json', true);
  await checkWeights(v, snapshotDir);
  for (const f of extraFiles) {
    if (await fileExists(join(snapshotDir, f))) await v.check(f, false);
    else if (!(await fileExists(join(repoDir, '.no_exist', commit, f)))) v.missing.push(f);
  }
  // Optional files that are there (tokenizer, vocab, generation config) are verified too: a damaged
  // one is served to the tokenizer loader otherwise. Absent ones are fine (the repo may lack them).
  for (const f of OPTIONAL_FILES) if (!extraFiles.includes(f) && (await fileExists(join(snapshotDir, f)))) await v.check(f, false);
  const missing = [...new Set(v.missing)];
  return { complete: missing.length === 0, commit, snapshotDir, missing, corrupt: v.corrupt };
}

/** Write `content` to `path` atomically (temp file + rename). */
async function writeAtomic(path: string, content: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = join(dirname(path), `.tfjs-lens${tempSuffix()}.tmp`); // short: the target name may be 255 bytes
  try {
    await writeFile(tmp, content, { flag: 'wx' });
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw err;
  }
}

/**
 * Record `refs/{revision}` → commit (atomic write).
 * @param repoDir - repo cache folder
 * @param revision - branch or tag (may contain '/')
 * @param commit - commit hash
 * @returns nothing
 * @throws the fs error when the cache is not writable
 * @example
 * await writeRef(repoDir, 'main', commit);
 * @category IO
 */
export async function writeRef(repoDir: string, revision: string, commit: string): Promise<void> {
  await writeAtomic(join(repoDir, 'refs', revision), commit);
}

/**
 * Record that an optional file does not exist at this commit (Python's `.no_exist` marker).
 * @param repoDir - repo cache folder
 * @param commit - commit hash
 * @param file - repo-relative file name
 * @returns nothing
 * @throws the fs error when the cache is not writable
 * @example
 * await markNoExist(repoDir, commit, 'tokenizer.json');
 * @category IO
 */
export async function markNoExist(repoDir: string, commit: string, file: string): Promise<void> {
  await writeAtomic(join(repoDir, '.no_exist', commit, file), '');
}

/**
 * Make `snapshots/{commit}/{file}` point at a complete blob: a relative symlink, or a copy when
 * symlinks are not allowed. Created under a temp name and renamed, so it is never partial.
 * @param repoDir - repo cache folder
 * @param commit - snapshot commit
 * @param file - repo-relative file name
 * @param blobPath - the complete blob
 * @returns the snapshot path
 * @throws the fs error when neither a link nor a copy can be made
 * @example
 * await linkIntoSnapshot(repoDir, commit, 'config.json', join(repoDir, 'blobs', etag));
 * @category IO
 */
export async function linkIntoSnapshot(repoDir: string, commit: string, file: string, blobPath: string): Promise<string> {
  const target = join(repoDir, 'snapshots', commit, file);
  await mkdir(dirname(target), { recursive: true });
  const tmp = join(dirname(target), `.tfjs-lens${tempSuffix()}.tmp`); // short: the target name may be 255 bytes
  try {
    try {
      await symlink(relative(dirname(target), blobPath), tmp);
    } catch {
      await copyFile(blobPath, tmp);
    }
    await rename(tmp, target);
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw err;
  }
  return target;
}
