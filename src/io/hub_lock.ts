/**
 * Cross-process safety of `blobs/`: a per-blob lock file (`{blob}.lock`, created exclusively,
 * holding the owner's pid) so two processes never write the same blob at once, and clean-up of
 * what killed processes leave behind (`*.incomplete.{pid}.{rand}` temp files and `.lock` files
 * whose pid is no longer alive). A process killed mid-download (SIGKILL, or SIGINT/SIGTERM without
 * a handler) cannot clean up itself; its leftovers are removed by the next download of that repo.
 * Partial downloads are not resumed: the file is fetched again from the start.
 */
import { randomBytes } from 'node:crypto';
import { link, open, readdir, readFile, rename, rm, stat, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { HubError } from '../errors.js';

/**
 * Whether a process with this pid exists (`kill(pid, 0)`; EPERM means it exists but is not ours).
 * @param pid - process id
 * @returns false only when the process is known to be gone (ESRCH) or the pid is invalid
 * @throws nothing
 * @example
 * pidAlive(process.pid); // true
 * @category IO
 */
export function pidAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/**
 * Remove `*.incomplete.{pid}.{rand}` temp files and `*.lock` files left in `blobsDir` by processes
 * that are no longer alive. Files of live processes (including this one) are kept.
 * @param blobsDir - `{repoDir}/blobs`
 * @returns the removed names
 * @throws nothing (a missing directory means nothing to clean)
 * @example
 * await cleanStaleDownloads(join(repoDir, 'blobs'));
 * @category IO
 */
export async function cleanStaleDownloads(blobsDir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(blobsDir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    let pid: number | undefined;
    let ino: number | undefined;
    const m = /\.incomplete\.(\d+)\.[0-9a-f]+$/.exec(name);
    if (m !== null) pid = Number(m[1]);
    else if (name.endsWith('.lock')) {
      ino = await inodeOf(join(blobsDir, name)); // read before judging: removeStaleLock removes only this file
      pid = await lockPid(join(blobsDir, name));
    } else if (!/\.lock\.stale\.[0-9a-f]+$/.test(name)) continue; // else a takeover's leftover: removed after 60 s
    if (pid !== undefined && pidAlive(pid)) continue;
    if (pid === undefined && !(await olderThan(join(blobsDir, name), 60_000))) continue; // being written right now
    const path = join(blobsDir, name);
    if (name.endsWith('.lock')) await removeStaleLock(path, ino);
    else await rm(path, { force: true }).catch(() => undefined);
    removed.push(name);
  }
  return removed;
}

async function lockPid(path: string): Promise<number | undefined> {
  try {
    const n = Number((await readFile(path, 'utf8')).trim());
    return Number.isSafeInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Remove a lock judged stale, without a race: it is first renamed to a unique name (atomic, so of
 * two processes taking it over only one wins), and if what was renamed is not the file that was
 * judged (another process replaced it in between: a different inode), it is put back (`link` fails
 * if yet another lock appeared; that one stays). `ino` is the inode read when the lock was judged.
 */
async function removeStaleLock(path: string, ino: number | undefined): Promise<void> {
  const aside = `${path}.stale.${randomBytes(4).toString('hex')}`;
  try {
    await rename(path, aside);
  } catch {
    return; // gone already: someone else took it over
  }
  const moved = await stat(aside).catch(() => undefined);
  if (ino !== undefined && moved !== undefined && moved.ino !== ino) await link(aside, path).catch(() => undefined);
  await rm(aside, { force: true }).catch(() => undefined);
}

async function inodeOf(path: string): Promise<number | undefined> {
  return (await stat(path).catch(() => undefined))?.ino;
}

async function olderThan(path: string, ms: number): Promise<boolean> {
  try {
    return Date.now() - (await stat(path)).mtimeMs > ms;
  } catch {
    return true;
  }
}

/** A held blob lock. @category IO */
export interface BlobLock {
  /** Mark the lock as alive (throttled to once a second); call while making progress. */
  touch(): void;
  /** Remove the lock file. */
  release(): Promise<void>;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Take `{blobPath}.lock`, waiting while another live process holds it. A lock is stale (and taken
 * over) when its pid is dead, or when it has not been touched for `staleMs` (a hung holder).
 * @param blobPath - the blob to protect
 * @param staleMs - how long an untouched lock is honoured
 * @returns the held lock
 * @throws {@link "tfjs-lens"!HubError} when the lock file cannot be created (e.g. read-only cache)
 * @example
 * const lock = await acquireBlobLock(join(blobsDir, sha), 60_000);
 * try { … } finally { await lock.release(); }
 * @category IO
 */
export async function acquireBlobLock(blobPath: string, staleMs: number): Promise<BlobLock> {
  const path = `${blobPath}.lock`;
  for (;;) {
    try {
      const fh = await open(path, 'wx');
      try {
        await fh.writeFile(String(process.pid));
      } finally {
        await fh.close();
      }
      let last = Date.now();
      return {
        touch: () => {
          if (Date.now() - last < 1000) return;
          last = Date.now();
          const now = new Date();
          utimes(path, now, now).catch(() => undefined);
        },
        release: async () => {
          await rm(path, { force: true }).catch(() => undefined);
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
        const e = new HubError(`resolveModelDir: cannot create the download lock ${path} — ${(err as Error).message}`);
        e.cause = err;
        throw e;
      }
    }
    const ino = await inodeOf(path);
    const pid = await lockPid(path);
    const dead = pid === undefined ? await olderThan(path, 5000) : !pidAlive(pid);
    if (dead || (await olderThan(path, staleMs))) {
      await removeStaleLock(path, ino);
      continue;
    }
    await sleep(50);
  }
}
