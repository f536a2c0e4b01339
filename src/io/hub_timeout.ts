/**
 * Timeouts for hub downloads. The idle timeout: every network wait (response headers of each
 * redirect hop, each body chunk) must make progress within `timeoutMs`, else the request is aborted
 * and a {@link "tfjs-lens"!HubError} is thrown. Like `huggingface_hub`'s read timeout
 * (`HF_HUB_DOWNLOAD_TIMEOUT`), it bounds the silence between bytes, not the length of the download.
 * The minimum rate (like curl's `--speed-limit`/`--speed-time`) catches a server that drips a byte
 * just often enough to never be idle: once a body has been read for `rateWindowMs`, fewer than
 * `minBytesPerSecond × rateWindowMs / 1000` bytes in the last `rateWindowMs` abort it.
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

/** Minimum average body rate used when neither `minBytesPerSecond` nor `TFJS_LENS_HUB_MIN_RATE` is set: 1 kB/s. @category IO */
export const DEFAULT_HUB_MIN_RATE = 1000;

/** Window of the minimum-rate check when neither `rateWindowMs` nor `TFJS_LENS_HUB_RATE_WINDOW` is set: 60 s. @category IO */
export const DEFAULT_HUB_RATE_WINDOW_MS = 60_000;

/** Minimum-rate limit of a download. @category IO */
export interface RateLimit {
  /** Bytes per second averaged over the window; 0 disables the check. */
  readonly minBytesPerSecond: number;
  /** Window length in milliseconds. */
  readonly windowMs: number;
}

function envNumber(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const raw = (env[name] ?? '').trim();
  if (raw === '') return undefined;
  const v = Number(raw);
  if (/^[0-9.eE+]+$/.test(raw) && Number.isFinite(v) && v >= 0) return v;
  throw new ConfigError(`resolveModelDir: invalid ${name} ${JSON.stringify(raw)} — expected a non-negative number [unset it for the default]`);
}

/**
 * The minimum-rate limit of a download.
 * @param minBytesPerSecond - explicit value (`HubOptions.minBytesPerSecond`, 0 disables), wins when set
 * @param rateWindowMs - explicit window (`HubOptions.rateWindowMs`), wins when set
 * @param env - environment: `TFJS_LENS_HUB_MIN_RATE` (bytes/s) and `TFJS_LENS_HUB_RATE_WINDOW` (seconds)
 * @returns the limit; defaults {@link DEFAULT_HUB_MIN_RATE} over {@link DEFAULT_HUB_RATE_WINDOW_MS}
 * @throws {@link "tfjs-lens"!ConfigError} for a negative or non-numeric rate, or a window that is not positive
 * @example
 * hubRateLimit(undefined, undefined, { TFJS_LENS_HUB_MIN_RATE: '0' }); // disabled
 * @category IO
 */
export function hubRateLimit(
  minBytesPerSecond: number | undefined,
  rateWindowMs: number | undefined,
  env: NodeJS.ProcessEnv = process.env,
): RateLimit {
  const rate = minBytesPerSecond ?? envNumber(env, 'TFJS_LENS_HUB_MIN_RATE') ?? DEFAULT_HUB_MIN_RATE;
  if (!Number.isFinite(rate) || rate < 0) {
    throw new ConfigError(`resolveModelDir: invalid minBytesPerSecond ${String(rate)} — expected a non-negative number (0 disables)`);
  }
  const envWindow = envNumber(env, 'TFJS_LENS_HUB_RATE_WINDOW');
  const windowMs = rateWindowMs ?? (envWindow === undefined ? DEFAULT_HUB_RATE_WINDOW_MS : envWindow * 1000);
  if (!Number.isFinite(windowMs) || windowMs <= 0 || windowMs > MAX_TIMEOUT_MS) {
    throw new ConfigError(`resolveModelDir: invalid rateWindowMs ${String(windowMs)} — expected a positive number of milliseconds`);
  }
  return { minBytesPerSecond: rate, windowMs };
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
  /** (time, bytes so far) samples of the body, oldest first; the first is at or before the window start. */
  private samples: [number, number][] = [];
  private lastTotal = -1;

  /**
   * @param ms - idle timeout in milliseconds
   * @param url - requested URL, for the message (never contains the token)
   * @param rate - minimum-rate limit of the body (none when omitted)
   */
  constructor(
    readonly ms: number,
    private readonly url: string,
    private readonly rate?: RateLimit,
  ) {}

  /**
   * Record that the body has delivered `total` bytes so far; aborts when the average over the
   * last window is below the minimum rate (call once before the first read, with 0).
   * @param total - bytes received so far
   * @returns nothing
   * @throws {@link "tfjs-lens"!HubError} "download too slow" when the rate is below the limit
   */
  received(total: number): void {
    if (this.rate === undefined || this.rate.minBytesPerSecond === 0) return;
    this.lastTotal = total;
    const now = Date.now();
    const last = this.samples.at(-1);
    // At most ~50 samples per window (a sample's bytes may run ahead of its time by 2% of a window).
    if (last !== undefined && this.samples.length > 1 && now - last[0] < this.rate.windowMs / 50) last[1] = total;
    else this.samples.push([now, total]);
    const start = now - this.rate.windowMs;
    while (this.samples.length > 1 && (this.samples[1] as [number, number])[0] <= start) this.samples.shift();
    const [t0, b0] = this.samples[0] as [number, number];
    if (t0 > start) return; // not read for a whole window yet
    const need = (this.rate.minBytesPerSecond * this.rate.windowMs) / 1000;
    if (total - b0 >= need) return;
    const e = new HubError(
      `resolveModelDir: download too slow from ${this.url} — got ${total - b0} bytes in the last ${seconds(this.rate.windowMs)} s, ` +
        `expected at least ${this.rate.minBytesPerSecond} bytes/s (${total} bytes in all) ` +
        '[check the connection; lower TFJS_LENS_HUB_MIN_RATE (bytes/s, 0 disables) or pass minBytesPerSecond]',
    );
    this.error = e;
    this.controller.abort(e);
    throw e;
  }

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
      // While a body read waits, the rate is re-checked a few times per window (no bytes = no call to received()).
      const rateTimer =
        this.lastTotal >= 0 && this.rate !== undefined
          ? setInterval(() => {
              try {
                this.received(this.lastTotal);
              } catch (err) {
                clearTimeout(timer);
                clearInterval(rateTimer);
                reject(err);
              }
            }, Math.max(10, this.rate.windowMs / 4))
          : undefined;
      const timer = setTimeout(() => {
        clearInterval(rateTimer);
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
        clearInterval(rateTimer);
        reject(err);
        return;
      }
      pending.then(
        (v) => {
          clearTimeout(timer);
          clearInterval(rateTimer);
          resolve(v);
        },
        (err: unknown) => {
          clearTimeout(timer);
          clearInterval(rateTimer);
          reject(this.error ?? err);
        },
      );
    });
  }
}
