/**
 * The browser bundle for tests: dist/browser/tfjs-lens.js, rebuilt (scripts/build_browser.ts) when it
 * is missing or older than a file under src/ or the build script.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildBrowser } from '../../scripts/build_browser.js';

/** The repository root. */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The bundle file. */
export const BUNDLE = join(REPO_ROOT, 'dist', 'browser', 'tfjs-lens.js');

function newestMtime(dir: string): number {
  let m = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    m = Math.max(m, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return m;
}

/** Build the bundle unless an up-to-date one is there; returns its path. */
export async function ensureBrowserBundle(): Promise<string> {
  const sources = Math.max(newestMtime(join(REPO_ROOT, 'src')), statSync(join(REPO_ROOT, 'scripts', 'build_browser.ts')).mtimeMs);
  const wasm = join(REPO_ROOT, 'dist', 'browser', 'tfjs-backend-wasm-simd.wasm');
  if (!existsSync(BUNDLE) || !existsSync(wasm) || statSync(BUNDLE).mtimeMs < sources) await buildBrowser();
  return BUNDLE;
}
