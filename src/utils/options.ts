/**
 * Option-object validation: plain-JS callers get the same safety as TypeScript ones. An option key
 * that the function does not know is an error naming the nearest valid key, never silently ignored.
 */
import { ConfigError } from '../errors.js';
import { nearestNames } from './nearest.js';

/**
 * The valid keys of an options interface, written as a record so the compiler checks that the list
 * is exactly the interface's keys (a missing or extra key is a type error).
 */
export type OptionKeys<T> = { readonly [K in keyof Required<T>]: true };

/**
 * Throw if `opts` has a key that is not in `valid`.
 * @param opts The options object a caller passed (undefined = none).
 * @param valid The valid keys.
 * @param fn Function name for the message.
 * @throws {@link "tfjs-lens"!ConfigError} naming the unknown key and the nearest valid one.
 */
export function checkOptionKeys(opts: object | undefined, valid: Readonly<Record<string, true>>, fn: string): void {
  if (opts === undefined || opts === null) return;
  if (typeof opts !== 'object' || Array.isArray(opts)) {
    throw new ConfigError(`${fn}: options must be an object, got ${Array.isArray(opts) ? 'an array' : typeof opts}`);
  }
  for (const key of Object.keys(opts)) {
    if (!Object.hasOwn(valid, key)) {
      const near = nearestNames(key, Object.keys(valid), 1)[0];
      throw new ConfigError(`${fn}: unknown option '${key}'${near === undefined ? '' : ` (did you mean '${near}'?)`}`);
    }
  }
}
