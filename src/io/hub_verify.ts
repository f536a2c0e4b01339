/**
 * Integrity checks of hub files, at download time and on every cached load.
 *
 * - Hashes: the hub declares the sha256 of LFS files (`x-linked-etag`) and the git blob sha1
 *   (sha1 of `blob {len}\0` + content) of regular files (`etag`). Both are compared
 *   case-insensitively, and a blob is named by its verified hash, so two contents never share a path.
 * - Content: `*.json` must parse, `*.safetensors` must have a valid header that tiles the file
 *   exactly, nothing may be empty or an HTML page (an error page served with status 200).
 * - Stamps: hashing a 500 MB file costs 1–2 s, so a successful check is recorded in a small sidecar
 *   `{repoDir}/.verified/{sha1 of the path}.json` (size, mtimeMs, what was checked), written
 *   atomically outside `snapshots/`. A later load re-checks only when size or mtime differ. A
 *   change that keeps both (bit rot below the file system) is not detected; delete `.verified/` to
 *   force a full re-check.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readFile, realpath, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative, sep } from 'node:path';
import { readHeaderLength, parseHeader } from './safetensors_header.js';

/** A hash the server declared for a file. @category IO */
export interface DeclaredHash {
  /** `sha256` (LFS files) or `git-sha1` (git blob sha1 of regular files). */
  readonly algo: 'sha256' | 'git-sha1';
  /** Lower-case hex digest. */
  readonly hex: string;
}

/**
 * The hash a hub etag stands for: 64 hex digits are a sha256, 40 a git blob sha1 (any case).
 * @param etags - candidates, first match wins (`x-linked-etag`, then the hub's `etag`)
 * @returns the declared hash, or undefined when no etag is hash-shaped (nothing to verify against)
 * @throws nothing
 * @example
 * declaredHash(['ABCD…64 hex']); // { algo: 'sha256', hex: 'abcd…' }
 * @category IO
 */
export function declaredHash(etags: readonly (string | undefined)[]): DeclaredHash | undefined {
  for (const e of etags) {
    if (e === undefined) continue;
    if (/^[0-9a-f]{64}$/i.test(e)) return { algo: 'sha256', hex: e.toLowerCase() };
    if (/^[0-9a-f]{40}$/i.test(e)) return { algo: 'git-sha1', hex: e.toLowerCase() };
  }
  return undefined;
}

/**
 * Hash a file on disk, streaming.
 * @param path - file path
 * @param algo - `sha256`, or `git-sha1` (sha1 of `blob {size}\0` + content, the git object id)
 * @returns lower-case hex digest
 * @throws the fs error when the file cannot be read
 * @example
 * await hashFile(blobPath, 'git-sha1'); // same as `git hash-object blobPath`
 * @category IO
 */
export async function hashFile(path: string, algo: DeclaredHash['algo']): Promise<string> {
  const h = createHash(algo === 'sha256' ? 'sha256' : 'sha1');
  if (algo === 'git-sha1') h.update(`blob ${(await stat(path)).size}\0`);
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** Files where an empty body is never a valid file. */
function mustHaveContent(file: string): boolean {
  return /\.(json|safetensors|txt|model)$/i.test(file);
}

/**
 * Check that a file's bytes are plausibly `file`: not empty, not an HTML page, JSON that parses
 * for `*.json`, a safetensors header that tiles the file for `*.safetensors`.
 * @param path - the file on disk
 * @param file - repo-relative name, decides which checks apply
 * @param required - true when an empty file is never acceptable (config, weights)
 * @returns why the content is wrong, or undefined when it looks right
 * @throws nothing (read errors are returned as the reason)
 * @example
 * const problem = await contentProblem(tmp, 'config.json', true); // 'empty file (0 bytes)'
 * @category IO
 */
export async function contentProblem(path: string, file: string, required: boolean): Promise<string | undefined> {
  try {
    const size = (await stat(path)).size;
    if (size === 0) return required || mustHaveContent(file) ? 'empty file (0 bytes)' : undefined;
    const fh = await open(path, 'r');
    let head: Buffer;
    try {
      head = Buffer.alloc(Math.min(size, 1024));
      await fh.read(head, 0, head.length, 0);
      if (/\.safetensors$/i.test(file)) return safetensorsProblem(fh, head, size, file);
    } finally {
      await fh.close();
    }
    if (!/\.html?$/i.test(file) && /^\s*<(!doctype html|html[\s>])/i.test(head.toString('latin1'))) {
      return 'an HTML page, not the file (an error page from the server or a proxy)';
    }
    if (/\.json$/i.test(file)) {
      try {
        JSON.parse(await readFile(path, 'utf8'));
      } catch (err) {
        return `not valid JSON (${(err as Error).message})`;
      }
    }
    return undefined;
  } catch (err) {
    return `unreadable (${(err as Error).message})`;
  }
}

async function safetensorsProblem(
  fh: Awaited<ReturnType<typeof open>>,
  head: Buffer,
  size: number,
  file: string,
): Promise<string | undefined> {
  try {
    const n = readHeaderLength(head, size, file);
    const header = Buffer.alloc(n);
    await fh.read(header, 0, n, 8);
    parseHeader(header, size - 8 - n, file);
    return undefined;
  } catch (err) {
    return `not a valid safetensors file (${(err as Error).message})`;
  }
}

/** What a stamp records. */
interface Stamp {
  readonly path: string;
  readonly size: number;
  readonly mtimeMs: number;
  /** `sha256:{hex}` / `git-sha1:{hex}` when the content was hashed, `content` for content checks only. */
  readonly checked: string;
}

function stampPath(repoDir: string, real: string): string {
  return join(repoDir, '.verified', `${createHash('sha1').update(relative(repoDir, real)).digest('hex')}.json`);
}

/**
 * Record that `real` (a blob or snapshot file) passed its checks, keyed by its size and mtime.
 * Best effort: a read-only cache simply gets re-checked next time.
 * @param repoDir - repo cache folder
 * @param real - resolved file path inside `repoDir`
 * @param checked - what was checked (`sha256:{hex}`, `git-sha1:{hex}` or `content`)
 * @returns nothing
 * @throws nothing
 * @example
 * await writeStamp(repoDir, join(repoDir, 'blobs', sha), `sha256:${sha}`);
 * @category IO
 */
export async function writeStamp(repoDir: string, real: string, checked: string): Promise<void> {
  try {
    const st = await stat(real);
    const stamp: Stamp = { path: relative(repoDir, real), size: st.size, mtimeMs: st.mtimeMs, checked };
    const target = stampPath(repoDir, real);
    await mkdir(dirname(target), { recursive: true });
    const tmp = `${target}.${process.pid}.${Math.random().toString(16).slice(2)}.tmp`;
    await writeFile(tmp, JSON.stringify(stamp));
    await rename(tmp, target).catch(async () => rm(tmp, { force: true }));
  } catch {
    // not writable: the next load re-checks
  }
}

async function stampMatches(repoDir: string, real: string, checked: string): Promise<boolean> {
  try {
    const s = JSON.parse(await readFile(stampPath(repoDir, real), 'utf8')) as Partial<Stamp>;
    const st = await stat(real);
    return s.size === st.size && s.mtimeMs === st.mtimeMs && s.checked === checked && s.path === relative(repoDir, real);
  } catch {
    return false;
  }
}

/** Result of {@link verifyCachedFile}. @category IO */
export interface CachedFileCheck {
  /** Why the file is bad; undefined when it passed. */
  readonly problem?: string;
  /** The resolved path (the blob a snapshot link points at, else the file itself). */
  readonly real: string;
}

/**
 * Verify a cached file (normally a snapshot link into `blobs/`). A blob named by a 64- or 40-hex
 * hash must hash to its name; every file must pass {@link contentProblem}. Passing files get a
 * stamp, so the next check is a `stat` (see the module comment).
 * @param repoDir - repo cache folder
 * @param path - the snapshot path
 * @param file - repo-relative name
 * @param required - whether an empty file is an error
 * @returns the problem (if any) and the resolved path to delete when corrupt
 * @throws nothing
 * @example
 * const { problem, real } = await verifyCachedFile(repoDir, join(snap, 'config.json'), 'config.json', true);
 * @category IO
 */
export async function verifyCachedFile(repoDir: string, path: string, file: string, required: boolean): Promise<CachedFileCheck> {
  let real = path;
  try {
    real = await realpath(path);
  } catch (err) {
    return { problem: `unreadable (${(err as Error).message})`, real };
  }
  const inBlobs = dirname(real) === join(repoDir, 'blobs') || real.startsWith(join(repoDir, 'blobs') + sep);
  const named = inBlobs ? declaredHash([basename(real)]) : undefined;
  const checked = named === undefined ? 'content' : `${named.algo}:${named.hex}`;
  if (await stampMatches(repoDir, real, checked)) return { real };
  if (named !== undefined) {
    let got: string;
    try {
      got = await hashFile(real, named.algo);
    } catch (err) {
      return { problem: `unreadable (${(err as Error).message})`, real };
    }
    if (got !== named.hex) return { problem: `${named.algo} is ${got}, expected ${named.hex} (its blob name)`, real };
  }
  const problem = await contentProblem(real, file, required);
  if (problem !== undefined) return { problem, real };
  await writeStamp(repoDir, real, checked);
  return { real };
}

/**
 * Forget a file's stamp (before deleting or replacing it).
 * @param repoDir - repo cache folder
 * @param real - resolved path
 * @returns nothing
 * @throws nothing
 * @example
 * await dropStamp(repoDir, blob);
 * @category IO
 */
export async function dropStamp(repoDir: string, real: string): Promise<void> {
  await rm(stampPath(repoDir, real), { force: true }).catch(() => undefined);
}
