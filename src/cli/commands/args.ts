/** Shared option parsing of the CLI commands. */
import { ConfigError } from '../../errors.js';

/**
 * A numeric option: its value, or the default when absent.
 * @param command Command name for the message (`circuit`, `sae`).
 * @param v Raw option value.
 * @param name Option name without dashes.
 * @param dflt Value when absent.
 * @returns The number.
 * @throws {@link "tfjs-lens"!ConfigError} when the value is not a finite number.
 */
export function numberOption(command: string, v: string | undefined, name: string, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new ConfigError(`${command}: --${name} must be a number, got '${v}'`);
  return n;
}
