/**
 * Fetching a model's files by URL (browser, or any runtime with `fetch`): bytes with a progress
 * callback, text, optional files (404 → absent), typed errors naming the URL. Used by the browser
 * loaders (src/browser/load_url.ts); no file system.
 */
import { HubError } from '../errors.js';

/** One progress report of a URL load. @category IO */
export interface LoadProgress {
  /** Bytes received so far, all files of this load together. */
  readonly loaded: number;
  /** Sum of the sizes (Content-Length) of the files started so far; undefined while one is unknown. */
  readonly total: number | undefined;
  /** The URL being received. */
  readonly url: string;
  /** Bytes of this file received so far. */
  readonly fileLoaded: number;
  /** This file's size, when the server sent Content-Length. */
  readonly fileTotal: number | undefined;
}

/** Options shared by the URL loaders. @category IO */
export interface UrlFetchOptions {
  /** Called as bytes arrive (for a progress bar). */
  readonly onProgress?: (p: LoadProgress) => void;
  /** The fetch to use (default: `globalThis.fetch`); e.g. one that adds headers. */
  readonly fetch?: typeof fetch;
  /** Aborts the downloads. */
  readonly signal?: AbortSignal;
}

/** Progress summed over the files of one load. */
export class ProgressTracker {
  private loaded = 0;
  private total: number | undefined = 0;

  constructor(private readonly report: ((p: LoadProgress) => void) | undefined) {}

  /** A file started: add its size (undefined makes the total unknown). */
  start(size: number | undefined): void {
    this.total = size === undefined || this.total === undefined ? undefined : this.total + size;
  }

  /** `n` more bytes of `url` arrived. */
  add(url: string, n: number, fileLoaded: number, fileTotal: number | undefined): void {
    this.loaded += n;
    this.report?.({ loaded: this.loaded, total: this.total, url, fileLoaded, fileTotal });
  }
}

/**
 * Resolve a base URL (absolute, or relative to the page) to an absolute URL ending in `/`.
 * @throws {@link "tfjs-lens"!HubError} for a string that is not a URL.
 */
export function baseUrlOf(base: string | URL, fn: string): string {
  const text = String(base);
  const page = (globalThis as { location?: { href?: string } }).location?.href;
  let url: URL;
  try {
    url = new URL(text, page);
  } catch {
    throw new HubError(`${fn}: '${text}' is not a URL — expected an http(s) URL of a model folder (or one relative to the page)`);
  }
  return url.href.endsWith('/') ? url.href : `${url.href}/`;
}

/** A file of a model folder fetched by URL. */
export class UrlFolder {
  private readonly tracker: ProgressTracker;

  constructor(
    /** Absolute base URL ending in `/`. */
    readonly base: string,
    /** The calling function, for messages. */
    readonly fn: string,
    private readonly opts: UrlFetchOptions = {},
  ) {
    this.tracker = new ProgressTracker(opts.onProgress);
  }

  /** The URL of a file of the folder. */
  url(name: string): string {
    return new URL(name, this.base).href;
  }

  /** GET a file; undefined for 404/410 when `optional`; HubError otherwise. */
  private async get(name: string, what: string, optional: boolean): Promise<Response | undefined> {
    const url = this.url(name);
    const doFetch = this.opts.fetch ?? globalThis.fetch;
    let res: Response;
    try {
      res = await doFetch(url, this.opts.signal === undefined ? {} : { signal: this.opts.signal });
    } catch (err) {
      throw new HubError(`${this.fn}: GET ${url} failed (${what}) — ${(err as Error).message}; check the URL, that the server is up and that it allows this origin (CORS)`);
    }
    if (optional && (res.status === 404 || res.status === 410)) return undefined;
    if (!res.ok) {
      throw new HubError(`${this.fn}: GET ${url} failed (${what}) — HTTP ${res.status} ${res.statusText}; expected ${name} in the model folder ${this.base}`, res.status);
    }
    const type = res.headers.get('content-type') ?? '';
    if (type.startsWith('text/html') && !name.endsWith('.html')) {
      if (optional) return undefined; // a single-page-app server answers every path with its page
      throw new HubError(`${this.fn}: GET ${url} returned an HTML page, not ${what} — expected the file ${name} in the model folder ${this.base}`, res.status);
    }
    return res;
  }

  /** A file's bytes, reporting progress; undefined when `optional` and absent. */
  async bytes(name: string, what: string, optional = false): Promise<Uint8Array | undefined> {
    const res = await this.get(name, what, optional);
    if (res === undefined) return undefined;
    const url = this.url(name);
    const len = res.headers.get('content-length');
    const size = len === null || res.headers.get('content-encoding') !== null ? undefined : Number(len);
    this.tracker.start(size);
    if (res.body === null) {
      const all = new Uint8Array(await res.arrayBuffer());
      this.tracker.add(url, all.byteLength, all.byteLength, size);
      return all;
    }
    const chunks: Uint8Array[] = [];
    let got = 0;
    const reader = res.body.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        chunks.push(value);
        got += value.byteLength;
        this.tracker.add(url, value.byteLength, got, size);
      }
    } catch (err) {
      throw new HubError(`${this.fn}: GET ${url} broke off after ${got} bytes (${what}) — ${(err as Error).message}`);
    }
    if (size !== undefined && got !== size) throw new HubError(`${this.fn}: GET ${url} is truncated — expected ${size} bytes, got ${got}`);
    if (chunks.length === 1) return chunks[0] as Uint8Array;
    const out = new Uint8Array(got);
    let pos = 0;
    for (const c of chunks) {
      out.set(c, pos);
      pos += c.byteLength;
    }
    return out;
  }

  /** A file's text (UTF-8); undefined when `optional` and absent. */
  async text(name: string, what: string, optional = false): Promise<string | undefined> {
    const b = await this.bytes(name, what, optional);
    return b === undefined ? undefined : new TextDecoder().decode(b);
  }
}
