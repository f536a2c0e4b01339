/**
 * HTTP side of the hub download: GET with manually followed redirects (so the hub's
 * `x-repo-commit` / `x-linked-etag` headers are seen before the CDN hop), typed errors, and
 * streaming a body into `blobs/` through a temp file that is renamed only once complete and
 * verified (size, content, hash: `hub_verify.ts`), under a per-blob lock (`hub_lock.ts`). Every
 * network wait is bounded by an idle timeout and a minimum rate (`hub_timeout.ts`).
 */
import { createHash } from 'node:crypto';
import { mkdir, open, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { HubError } from '../errors.js';
import { tempSuffix } from './hub_cache.js';
import { acquireBlobLock, type BlobLock } from './hub_lock.js';
import { IdleTimeout, type RateLimit } from './hub_timeout.js';
import { contentProblem, declaredHash, dropStamp, hashFile, verifyCachedFile, writeStamp, type DeclaredHash } from './hub_verify.js';

/** What the downloader needs to talk to the hub. @category IO */
export interface HttpContext {
  /** Hub base URL without trailing slash. */
  readonly endpoint: string;
  /** Bearer token, sent only to the endpoint's origin. */
  readonly token?: string;
  readonly fetch: typeof globalThis.fetch;
  /** Idle timeout in ms: longest wait for response headers or for the next body chunk. */
  readonly timeoutMs: number;
  /** Minimum average body rate (see `hub_timeout.ts`); none when omitted. */
  readonly rate?: RateLimit;
  /** Repo id, for progress lines and hints. */
  readonly repoId: string;
  readonly quiet: boolean;
  readonly onProgress?: (p: { file: string; loaded: number; total?: number }) => void;
}

/** Headers the hub sets on its own responses (before any CDN redirect). @category IO */
interface HubMeta {
  commit?: string;
  linkedEtag?: string;
  /** `x-linked-size`: the LFS file's size, declared by the hub before the CDN redirect. */
  linkedSize?: number;
  etag?: string;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 10;

/** Strip `W/` and quotes; keep only values that are safe as a blob file name. */
function cleanEtag(raw: string | null): string | undefined {
  if (raw === null) return undefined;
  const v = raw.replace(/^W\//, '').replace(/"/g, '').trim();
  return /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$/.test(v) ? v : undefined;
}

function causeText(err: unknown): string {
  const e = err as { message?: string; cause?: { message?: string; code?: string } };
  const inner = e.cause?.message ?? e.cause?.code;
  return inner !== undefined && inner !== e.message ? `${e.message ?? String(err)}: ${inner}` : (e.message ?? String(err));
}

/** HubError for a failed request (no response at all), with `cause` set. */
function networkError(url: string, err: unknown): HubError {
  const e = new HubError(
    `resolveModelDir: network error fetching ${url} — ${causeText(err)} ` +
      '[check the connection or HF_ENDPOINT; set HF_HUB_OFFLINE=1 to use only the local cache]',
  );
  e.cause = err;
  return e;
}

/**
 * HubError for an HTTP error status.
 * @param status - HTTP status
 * @param statusText - reason phrase
 * @param url - the requested URL (never contains the token)
 * @param ctx - for the repo id and whether a token was sent
 * @returns the error to throw: 404 "not found", 401/403 with the HF_TOKEN hint, others with the status text
 * @throws nothing
 * @example
 * if (!res.ok) throw httpError(res.status, res.statusText, url, ctx);
 * @category IO
 */
export function httpError(status: number, statusText: string, url: string, ctx: HttpContext): HubError {
  if (status === 404) {
    return new HubError(`resolveModelDir: not found: ${url} (check the model id and revision) — HTTP 404`, 404);
  }
  if (status === 401 || status === 403) {
    const who = ctx.token === undefined ? 'no token was sent' : 'the token was rejected or lacks access';
    return new HubError(
      `resolveModelDir: access denied (HTTP ${status} ${statusText}) for ${url} — ${who}; the repo may be gated, ` +
        `private or not exist [set HF_TOKEN (or pass token) for an account that accepted ${ctx.repoId}'s terms]`,
      status,
    );
  }
  const hint = status >= 500 ? ' [server error: try again later]' : '';
  return new HubError(`resolveModelDir: HTTP ${status} ${statusText} for ${url}${hint}`, status);
}

/**
 * GET `url`, following redirects by hand (auth is dropped when leaving the endpoint's origin).
 * Each hop must answer with headers within `ctx.timeoutMs`.
 * @param ctx - HTTP context
 * @param url - hub URL
 * @returns the final response (any status), the hub headers seen on the way, and the request's
 *   idle clock (pass it to {@link storeBlob}; its signal aborts the body too)
 * @throws {@link "tfjs-lens"!HubError} on network errors, an idle timeout or a redirect loop
 * @example
 * const { res, meta, idle } = await fetchFollowing(ctx, `${ctx.endpoint}/gpt2/resolve/main/config.json`);
 * @category IO
 */
export async function fetchFollowing(
  ctx: HttpContext,
  url: string,
): Promise<{ res: Response; meta: HubMeta; idle: IdleTimeout }> {
  const hubOrigin = new URL(ctx.endpoint).origin;
  const meta: HubMeta = {};
  const idle = new IdleTimeout(ctx.timeoutMs, url, ctx.rate);
  let current = new URL(url);
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    const sameOrigin = current.origin === hubOrigin;
    const headers: Record<string, string> = { 'accept-encoding': 'identity', 'user-agent': 'tfjs-lens' };
    if (ctx.token !== undefined && ctx.token !== '' && sameOrigin) headers['authorization'] = `Bearer ${ctx.token}`;
    let res: Response;
    try {
      const init: RequestInit = { headers, redirect: 'manual', signal: idle.signal };
      res = await idle.guard(() => ctx.fetch(current.href, init), 'no response headers received');
    } catch (err) {
      throw idle.fired ? err : networkError(url, err);
    }
    const commit = res.headers.get('x-repo-commit');
    if (meta.commit === undefined && commit !== null && /^[0-9a-f]{40}$/.test(commit.trim())) meta.commit = commit.trim();
    meta.linkedEtag ??= cleanEtag(res.headers.get('x-linked-etag'));
    const linkedSize = Number(res.headers.get('x-linked-size') ?? NaN);
    if (meta.linkedSize === undefined && Number.isSafeInteger(linkedSize) && linkedSize >= 0) meta.linkedSize = linkedSize;
    if (sameOrigin) meta.etag ??= cleanEtag(res.headers.get('etag'));
    if (!REDIRECTS.has(res.status)) return { res, meta, idle };
    const location = res.headers.get('location');
    await res.body?.cancel().catch(() => undefined);
    if (location === null) throw new HubError(`resolveModelDir: redirect without Location for ${url}`, res.status);
    current = redirectTarget(location, current, url, res.status);
  }
  throw new HubError(`resolveModelDir: too many redirects for ${url} — expected at most ${MAX_REDIRECTS}`);
}

/** The URL a `Location` header points to; HubError when it is malformed or not http(s). */
function redirectTarget(location: string, current: URL, url: string, status: number): URL {
  let next: URL;
  try {
    next = new URL(location, current);
  } catch (err) {
    const e = new HubError(`resolveModelDir: malformed redirect Location ${JSON.stringify(location.slice(0, 200))} for ${url} (HTTP ${status})`, status);
    e.cause = err;
    throw e;
  }
  if (next.protocol !== 'http:' && next.protocol !== 'https:') {
    throw new HubError(`resolveModelDir: redirect to a non-http(s) Location ${JSON.stringify(location.slice(0, 200))} for ${url} (HTTP ${status})`, status);
  }
  return next;
}

/** Throttled progress reporter: stderr at most every 250 ms (plus a final line), callback always. */
class Progress {
  private lastPrint = Date.now();
  private printed = false;
  constructor(
    private readonly ctx: HttpContext,
    private readonly file: string,
    private readonly total: number | undefined,
  ) {}

  update(loaded: number, final: boolean): void {
    this.ctx.onProgress?.({ file: this.file, loaded, total: this.total });
    if (this.ctx.quiet) return;
    const now = Date.now();
    if (!final && now - this.lastPrint < 250) return;
    if (final && !this.printed && loaded < 256_000) return; // small, quick files (config.json…): no line
    this.lastPrint = now;
    this.printed = true;
    const mb = (n: number): string => (n / 1e6).toFixed(1);
    const size =
      this.total !== undefined && this.total > 0
        ? `${mb(loaded)}/${mb(this.total)} MB (${Math.floor((100 * loaded) / this.total)}%)`
        : `${mb(loaded)} MB`;
    process.stderr.write(`tfjs-lens: downloading ${this.ctx.repoId}/${this.file} ${size}\n`);
  }
}

/** Body-read failure → truncated (length mismatch) or dropped connection. */
function bodyError(url: string, err: unknown, loaded: number, total: number | undefined): HubError {
  const code = (err as { cause?: { code?: string } }).cause?.code;
  const of = total === undefined ? `${loaded} bytes` : `${loaded} of ${total} bytes`;
  const e =
    code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH'
      ? new HubError(`resolveModelDir: truncated download of ${url} — expected ${total ?? 'Content-Length'} bytes, got ${loaded} [retry]`)
      : new HubError(`resolveModelDir: connection dropped while downloading ${url} — got ${of} (${causeText(err)}) [retry]`);
  e.cause = err;
  return e;
}

/** Pump the body into `fh`, hashing as it goes; each chunk must arrive within the idle timeout. */
async function pump(
  res: Response,
  fh: FileHandle,
  url: string,
  total: number | undefined,
  progress: Progress,
  idle: IdleTimeout,
  lock: BlobLock | undefined,
): Promise<{ loaded: number; digest: string }> {
  const hash = createHash('sha256');
  let loaded = 0;
  const body = res.body;
  if (body === null) return { loaded, digest: hash.digest('hex') };
  const reader = body.getReader();
  try {
    idle.received(0);
    for (;;) {
      let chunk: { done: boolean; value?: Uint8Array };
      try {
        const got = total === undefined ? `got ${loaded} bytes` : `got ${loaded} of ${total} bytes`;
        chunk = (await idle.guard(() => reader.read(), got)) as { done: boolean; value?: Uint8Array };
      } catch (err) {
        throw idle.fired ? err : bodyError(url, err, loaded, total);
      }
      if (chunk.done || chunk.value === undefined) break;
      hash.update(chunk.value);
      await fh.write(chunk.value);
      loaded += chunk.value.byteLength;
      progress.update(loaded, false);
      lock?.touch();
      idle.received(loaded);
    }
  } catch (err) {
    await reader.cancel().catch(() => undefined); // e.g. disk full: release the connection
    throw err;
  }
  return { loaded, digest: hash.digest('hex') };
}

/** Statuses that are 2xx but carry no (complete) file. */
const NOT_A_FILE = new Set([204, 205, 206]);

/** Checks on the response headers, before any byte is read. */
function checkHeaders(res: Response, meta: HubMeta, file: string, url: string, total: number | undefined): void {
  if (NOT_A_FILE.has(res.status)) {
    throw new HubError(
      `resolveModelDir: HTTP ${res.status} ${res.statusText} for ${file} (${url}) — expected the file's content with status 200 ` +
        '[the server or a proxy is misbehaving; retry]',
      res.status,
    );
  }
  const type = (res.headers.get('content-type') ?? '').toLowerCase();
  if (type.startsWith('text/html') && !/\.html?$/i.test(file)) {
    throw new HubError(
      `resolveModelDir: got an HTML page (content-type ${type}) instead of ${file} from ${url} ` +
        '[an error or login page from the server or a proxy; check HF_ENDPOINT and retry]',
      res.status,
    );
  }
  if (meta.linkedSize !== undefined && total !== undefined && meta.linkedSize !== total) {
    throw new HubError(
      `resolveModelDir: size mismatch for ${file} from ${url} — the hub declared ${meta.linkedSize} bytes (X-Linked-Size), ` +
        `the download sends ${total} (Content-Length) [retry]`,
    );
  }
}

/** Checks on the received temp file; returns the blob name (the verified hash, else the content's sha256). */
async function checkBody(
  tmp: string,
  file: string,
  url: string,
  required: boolean,
  sizes: { loaded: number; total: number | undefined; linked: number | undefined },
  expected: DeclaredHash | undefined,
  sha256: string,
): Promise<string> {
  const { loaded, total, linked } = sizes;
  if (total !== undefined && loaded !== total) {
    throw new HubError(`resolveModelDir: truncated download of ${url} — expected ${total} bytes, got ${loaded} [retry]`);
  }
  if (linked !== undefined && loaded !== linked) {
    throw new HubError(`resolveModelDir: truncated download of ${url} — expected ${linked} bytes (X-Linked-Size), got ${loaded} [retry]`);
  }
  const problem = await contentProblem(tmp, file, required);
  if (problem !== undefined) throw new HubError(`resolveModelDir: downloaded ${file} is ${problem} — from ${url} [retry]`);
  if (expected === undefined) return sha256;
  const got = expected.algo === 'sha256' ? sha256 : await hashFile(tmp, 'git-sha1');
  if (got !== expected.hex) {
    throw new HubError(
      `resolveModelDir: checksum mismatch for ${file} from ${url} — expected ${expected.algo} ${expected.hex} (the hub's etag), ` +
        `got ${got} (${loaded} bytes) [retry]`,
    );
  }
  return expected.hex;
}

/** Release a lock and a response body, ignoring errors. */
async function releaseAll(res: Response, lock: BlobLock | undefined): Promise<void> {
  await lock?.release();
  if (res.body !== null && !res.body.locked) await res.body.cancel().catch(() => undefined);
}

/**
 * Store a response body as `blobs/{hash}` and verify it against what the server declared:
 * the status (204/205/206 and `text/html` are refused), the size (Content-Length and
 * `X-Linked-Size`), the content (JSON parses, safetensors header tiles the file, not empty, not
 * HTML) and the hash of the etag (sha256 for LFS files, git blob sha1 for regular files, any case).
 * The blob is named by its verified hash, or by the sha256 of the received bytes when no etag is a
 * hash, so different contents never share a path. An existing blob with the declared hash is reused
 * (without reading the body) only after it verifies; a corrupt one is replaced. The body streams to
 * `{name}.incomplete.{pid}.{random}`, renamed once verified; while it is written, `{hash}.lock`
 * keeps other processes from writing the same blob. Nothing is left behind on failure.
 * @param ctx - HTTP context (progress)
 * @param res - a 2xx response
 * @param meta - hub headers (etags, sizes)
 * @param blobsDir - `{repoDir}/blobs`
 * @param file - repo-relative file name (progress, checks, messages)
 * @param url - for messages
 * @param idle - the request's idle clock from {@link fetchFollowing}
 * @param required - true for config.json and weights (an empty body is always an error then)
 * @returns the blob path
 * @throws {@link "tfjs-lens"!HubError} for truncated bodies, dropped connections, timeouts, checksum or size mismatches,
 *   empty/HTML/unparsable bodies (naming the file) and cache write errors
 * @example
 * const { res, meta, idle } = await fetchFollowing(ctx, url);
 * const blob = await storeBlob(ctx, res, meta, join(repoDir, 'blobs'), 'config.json', url, idle, true);
 * @category IO
 */
export async function storeBlob(
  ctx: HttpContext,
  res: Response,
  meta: HubMeta,
  blobsDir: string,
  file: string,
  url: string,
  idle: IdleTimeout,
  required = true,
): Promise<string> {
  const repoDir = dirname(blobsDir);
  const encoded = (res.headers.get('content-encoding') ?? 'identity') !== 'identity';
  const lengthHeader = Number(res.headers.get('content-length') ?? NaN);
  const total = Number.isSafeInteger(lengthHeader) && lengthHeader >= 0 && !encoded ? lengthHeader : undefined;
  const expected = declaredHash([meta.linkedEtag, meta.etag]);
  let lock: BlobLock | undefined;
  let tmp: string | undefined;
  let fh: FileHandle | undefined;
  try {
    checkHeaders(res, meta, file, url, total);
    await mkdir(blobsDir, { recursive: true });
    if (expected !== undefined) {
      const existing = join(blobsDir, expected.hex);
      // A hung holder is taken over once its lock has not been touched for a few idle timeouts.
      lock = await acquireBlobLock(existing, Math.max(3 * ctx.timeoutMs, 60_000));
      const st = await stat(existing).catch(() => undefined);
      const declared = meta.linkedSize ?? total;
      // Reused only when it verifies and has the declared size: a response whose size differs is
      // not this blob (a reused etag), and is downloaded and checked (it will fail the hash check).
      if (st?.isFile() === true && (declared === undefined || declared === st.size)) {
        if ((await verifyCachedFile(repoDir, existing, file, required)).problem === undefined) {
          await releaseAll(res, lock);
          return existing;
        }
        await dropStamp(repoDir, existing);
        await rm(existing, { force: true }); // corrupt: replaced by this download
      }
    }
    tmp = join(blobsDir, `${expected?.hex ?? 'download'}.incomplete${tempSuffix()}`);
    fh = await open(tmp, 'wx');
    const progress = new Progress(ctx, file, total ?? meta.linkedSize);
    const { loaded, digest } = await pump(res, fh, url, total ?? meta.linkedSize, progress, idle, lock);
    await fh.close();
    fh = undefined;
    const sizes = { loaded, total, linked: meta.linkedSize };
    const name = await checkBody(tmp, file, url, required, sizes, expected, digest);
    progress.update(loaded, true);
    const blob = join(blobsDir, name);
    await dropStamp(repoDir, blob);
    await rename(tmp, blob);
    tmp = undefined;
    await writeStamp(repoDir, blob, `${expected?.algo ?? 'sha256'}:${name}`);
    await lock?.release();
    return blob;
  } catch (err) {
    await fh?.close().catch(() => undefined);
    if (tmp !== undefined) await rm(tmp, { force: true }).catch(() => undefined);
    await releaseAll(res, lock);
    if (err instanceof HubError) throw err;
    const e = new HubError(`resolveModelDir: could not write ${url} into the cache at ${blobsDir} — ${causeText(err)}`);
    e.cause = err;
    throw e;
  }
}
