/**
 * Build the native BLAS addon for a test (scripts/install_native.mjs --strict) into `dir`.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

/**
 * @param dir Folder to build into.
 * @returns The addon's path, or undefined where it cannot be built (no C compiler, Node headers or
 *   OpenBLAS): the tests that need it are then skipped.
 */
export function buildTestAddon(dir: string): string | undefined {
  const out = join(dir, 'tfjs_lens_blas.node');
  try {
    execFileSync(process.execPath, ['scripts/install_native.mjs', '--out', out, '--strict'], { stdio: 'pipe' });
    return out;
  } catch {
    return undefined;
  }
}
