/**
 * Which matmul the wasm backend uses: the native addon (src/backend/native_matmul.ts) when it was
 * built at install time and passes its checks, else wasm's own kernels, with the reason.
 * `TFJS_LENS_NATIVE_MATMUL=0` turns the native path off; a path value loads that addon instead of
 * build/native/tfjs_lens_blas.node.
 */
import { existsSync } from 'node:fs';
import { DEFAULT_NATIVE_ADDON, blasThreadsFromEnv, installNativeMatmul, type NativeMatmulInfo } from './native_matmul.js';

/** The matmul path chosen on wasm ({@link "tfjs-lens"!BackendInfo}'s `matmul`). @category Backend */
export interface MatmulPath {
  /** `native` (the BLAS addon) or `wasm` (XNNPACK's kernels). */
  readonly path: 'native' | 'wasm';
  /** Why wasm: `TFJS_LENS_NATIVE_MATMUL=0`, the addon was not built, or the error that refused it. */
  readonly reason?: string;
  /** What the native path loaded. */
  readonly native?: NativeMatmulInfo;
}

/** How to get the native path: printed once per process when no addon was built. */
export const NATIVE_HINT =
  'matmul on wasm: no native BLAS addon was built. For 3-6x faster matmuls install OpenBLAS ' +
  '(Debian/Ubuntu: apt-get install libopenblas0-pthread; macOS uses Accelerate) and re-run npm ci ' +
  '(or node node_modules/tfjs-lens/scripts/install_native.mjs); TFJS_LENS_NATIVE_MATMUL=0 hides this line';

let hinted = false;
let warned = false;

/** `off` (=0), `default` (unset, empty, 1) or the addon path the variable names. */
export function nativeMatmulSetting(raw = process.env['TFJS_LENS_NATIVE_MATMUL']): 'off' | 'default' | { readonly path: string } {
  const v = (raw ?? '').trim();
  if (/^(0|off|false|no)$/i.test(v)) return 'off';
  if (v === '' || /^(1|on|true|yes)$/i.test(v)) return 'default';
  return { path: v };
}

/** Whether {@link selectMatmul} will try an addon (not turned off, and the file exists). */
export function nativeMatmulPlanned(): boolean {
  const setting = nativeMatmulSetting();
  return setting !== 'off' && existsSync(setting === 'default' ? DEFAULT_NATIVE_ADDON : setting.path);
}

/**
 * Pick the matmul path for the wasm backend (already initialised): install the native addon when
 * allowed and present; otherwise say why, with one stderr line (unless quiet) when the addon is
 * missing (once per process) or was refused.
 * @param quiet Print nothing.
 * @param threads BLAS threads when `OPENBLAS_NUM_THREADS` / `OMP_NUM_THREADS` are not set.
 * @param write Where the lines go (stderr).
 * @param defaultPath The addon when `TFJS_LENS_NATIVE_MATMUL` names none.
 */
export function selectMatmul(
  quiet: boolean, threads: number, write: (line: string) => void = (l) => process.stderr.write(l), defaultPath = DEFAULT_NATIVE_ADDON,
): MatmulPath {
  const setting = nativeMatmulSetting();
  if (setting === 'off') return { path: 'wasm', reason: 'TFJS_LENS_NATIVE_MATMUL=0' };
  const path = setting === 'default' ? defaultPath : setting.path;
  if (setting === 'default' && !existsSync(path)) {
    if (!quiet && !hinted) {
      write(`tfjs-lens: ${NATIVE_HINT}\n`);
      hinted = true;
    }
    return { path: 'wasm', reason: `native addon not built (${path})` };
  }
  try {
    return { path: 'native', native: installNativeMatmul(path, { threads: blasThreadsFromEnv() ?? threads }) };
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    if (!quiet && !warned) {
      write(`tfjs-lens: ${reason}; using the wasm matmul\n`);
      warned = true;
    }
    return { path: 'wasm', reason };
  }
}
