/**
 * Browser twin of metrics_file.ts (chosen by scripts/build_browser.ts): there is no file to write
 * metrics to; training in memory works, `metricsPath` throws a {@link "tfjs-lens"!UsageError}.
 */
import { browserFsError } from '../utils/browser_fs.js';

/** Not available in the browser: leave `metricsPath` out and read the returned history. */
export function startMetricsFile(path: string): void {
  throw browserFsError('metricsPath', path, 'leave metricsPath out and use the returned history / onStep');
}

/** Not available in the browser. */
export function appendMetricsLine(path: string, _record: unknown): void {
  throw browserFsError('metricsPath', path, 'leave metricsPath out and use the returned history / onStep');
}
