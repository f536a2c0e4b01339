/**
 * The error the browser twins (`*.browser.ts`, chosen by scripts/build_browser.ts) throw when a
 * file-system path reaches a function that needs Node's file system.
 */
import { UsageError } from '../errors.js';

/**
 * A {@link "tfjs-lens"!UsageError} for a file-system call made in the browser bundle.
 * @param fn The function called (e.g. 'HookedTransformer.fromPretrained').
 * @param path The path or name it was given.
 * @param instead What to use in the browser.
 * @returns The error (to throw).
 */
export function browserFsError(fn: string, path: string, instead: string): UsageError {
  return new UsageError(
    `${fn}('${path}'): the browser build of tfjs-lens has no file system or hub cache — ${instead}`,
  );
}
