/**
 * A stand-in for Node's `process` in the browser bundle: scripts/build_browser.ts imports it into
 * the src/ modules that read `process.env` or write to `process.stderr` (nothing global is set).
 * Environment variables are empty; stderr/stdout lines go to the console.
 */

/** The parts of `process` the library touches. */
export const process = {
  env: {} as Record<string, string | undefined>,
  pid: 0,
  stderr: { isTTY: false, write: (s: string): boolean => (console.warn(String(s).replace(/\n$/, '')), true) },
  stdout: { isTTY: false, write: (s: string): boolean => (console.log(String(s).replace(/\n$/, '')), true) },
  emitWarning: (m: string): void => console.warn(m),
  listeners: (_event: string): ((...args: unknown[]) => void)[] => [],
  removeListener: (_event: string, _fn: (...args: unknown[]) => void): void => undefined,
};
