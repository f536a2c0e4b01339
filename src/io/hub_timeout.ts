/**
 * Idle timeout for hub downloads: every network wait (response headers of each redirect hop, each
 * body chunk) must make progress within `timeoutMs`, else the request is aborted and a
 * {@link "tfjs-lens"!HubError} is thrown. Like `huggingface_hub`'s read timeout (`HF_HUB_DOWNLOAD_TIMEOUT`), it
 * bounds the silence between bytes, not the length of the whole download.
 */
import { ConfigError, HubError } from '../errors.js';

/** Idle timeout used when neither `timeoutMs` nor `HF_HUB_DOWNLOAD_TIMEOUT` is set: 30 s. @category IO */
export const DEFAULT_HUB_TIMEOUT_MS = 30_000;

/** Largest delay `setTimeout` honours (about 24.8 days). */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/**
 * The idle timeout of a download, in milliseconds.
 * @param timeoutMs - explicit value (`HubOptions.timeoutMs`), wins when set
 * @param env - environment to read `HF_HUB_DOWNLOAD_TIMEOUT` (seconds, as in `huggingface_hub`) from
 * @returns `timeoutMs`, else `HF_HUB_DOWNLOAD_TIMEOUT` × 1000, else {@link DEFAULT_HUB_TIMEOUT_MS}
 * @throws {@link "tfjs-lens"!ConfigError} when the value is not a positive number (at most 2^31 − 1 ms)
 * @example
 * hubTimeoutMs(undefined, { HF_HUB_DOWNLOAD_TIMEOUT: '60' }); // 60000
 * @category IO
 */
export function hubTimeoutMs(timeoutMs: number | undefined, env: NodeJS.ProcessEnv = process.env): number {
  if (timeoutMs !== undefined) {
    if (Number.isFinite(timeoutMs) && timeoutMs > 0 && timeoutMs <= MAX_TIMEOUT_MS) return timeoutMs;
    throw new ConfigError(
      `resolveModelDir: invalid timeoutMs ${String(timeoutMs)} — expected a positive number of milliseconds up to ${MAX_TIMEOUT_MS}`,
    );
  }
  const raw = (env['HF_HUB_DOWNLOAD_TIMEOUT'] ?? '').trim();
  if (raw === '') return DEFAULT_HUB_TIMEOUT_MS;
  const ms = Number(raw) * 1000;
  if (/^[0-9.eE+]+$/.test(raw) && Number.isFinite(ms) && ms > 0 && ms <= MAX_TIMEOUT_MS) return ms;
  throw new ConfigError(
    `resolveModelDir: invalid HF_HUB_DOWNLOAD_TIMEOUT ${JSON.stringify(raw)} — expected a positive number of seconds ` +
      '[unset it for the default of 30 s]',
  );
}

/** Seconds for messages: `0.2`, `30`, `1.5`. */
function seconds(ms: number): string {
  return String(Math.round(ms) / 1000);
}

/**
 * One request's idle clock and its AbortController. {@link IdleTimeout.guard} restarts the clock for
 * each wait; when a wait exceeds the timeout the signal is aborted (so the connection is torn
 * down) and the wait rejects with a {@link "tfjs-lens"!HubError}, even when the fetch implementation ignores
 * the signal.
 * @category IO
 */
export class IdleTimeout {
  private readonly controller = new AbortController();
  private error: HubError | undefined;

  /**
   * @param ms - idle timeout in milliseconds
   * @param url - requested URL, for the message (never contains the token)
   */
  constructor(
    readonly ms: number,
    private readonly url: string,
  ) {}

  /** Signal to pass to `fetch`; aborted when the timeout fires. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** True once the timeout has fired. */
  get fired(): boolean {
    return this.error !== undefined;
  }

  /**
   * Await `start()` with a fresh idle clock.
   * @param start - starts the wait (a fetch, a body read)
   * @param progress - what was received so far, for the message (e.g. `'no response headers'`)
   * @returns what `start()` resolves to
   * @throws {@link "tfjs-lens"!HubError} "timed out after N s waiting for data from URL" when it takes longer than `ms`;
   *   otherwise whatever `start()` rejects with (the timeout error if the rejection came from the abort)
   */
  guard<T>(start: () => Promise<T>, progress: string): Promise<T> {
    if (this.error !== undefined) return Promise.reject(this.error);
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        const e = new HubError(
          `resolveModelDir: timed out after ${seconds(this.ms)} s waiting for data from ${this.url} — ${progress} ` +
            '[check the connection; raise HF_HUB_DOWNLOAD_TIMEOUT (seconds) or pass timeoutMs]',
        );
        this.error = e;
        this.controller.abort(e);
        reject(e);
      }, this.ms);
      let pending: Promise<T>;
      try {
        pending = start();
      } catch (err) {
        clearTimeout(timer);
        reject(err);
        return;
      }
      pending.then(
        (v) => {
          clearTimeout(timer);
          resolve(v);
        },
        (err: unknown) => {
          clearTimeout(timer);
          reject(this.error ?? err);
        },
      );
    });
  }
}
