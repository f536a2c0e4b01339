/**
 * The JSON-lines metrics file of a training loop (`metricsPath`): created empty at the start, one
 * line per logged step. Node only; the browser bundle swaps in metrics_file.browser.ts.
 */
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** Create (or empty) the metrics file and its folder. */
export function startMetricsFile(path: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, '');
}

/** Append one JSON line. */
export function appendMetricsLine(path: string, record: unknown): void {
  appendFileSync(path, `${JSON.stringify(record)}\n`);
}
