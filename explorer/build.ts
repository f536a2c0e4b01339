/**
 * Build the explorer into a self-contained static folder (default dist/explorer/): the page
 * (index.html, styles.css, main.js: explorer/main.ts bundled by esbuild together with the library's
 * browser entry through the browser build's plugin, scripts/build_browser.ts `browserPlugin`), tfjs's
 * wasm files beside it, and the shipped files it loads by relative URL:
 * models/{induction-2l,distilbert-mini,llama-mini}/ (with the distilbert-mini probe) and saes/. Copies are incremental (same size and not older: skipped).
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { browserPlugin } from '../scripts/build_browser.js';

/** Repository root (explorer/..). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** Models the page offers. */
export const EXPLORER_MODELS = ['induction-2l', 'distilbert-mini', 'llama-mini'] as const;

/** Options of {@link buildExplorer}. */
export interface BuildExplorerOptions {
  /** Output folder (default dist/explorer under the repo). */
  readonly outDir?: string;
  /** Log lines (default: none). */
  readonly log?: (line: string) => void;
}

/** What a build wrote. */
export interface BuildExplorerResult {
  readonly outDir: string;
  /** Files copied (not counting skipped up-to-date ones). */
  readonly copied: number;
  /** Bytes of main.js. */
  readonly mainBytes: number;
}

function copyTree(src: string, dst: string, skip: (name: string) => boolean): number {
  let n = 0;
  mkdirSync(dst, { recursive: true });
  for (const e of readdirSync(src, { withFileTypes: true })) {
    if (skip(e.name)) continue;
    const s = join(src, e.name);
    const d = join(dst, e.name);
    if (e.isDirectory()) n += copyTree(s, d, skip);
    else if (e.isFile()) {
      const ss = statSync(s);
      if (existsSync(d)) {
        const ds = statSync(d);
        if (ds.size === ss.size && ds.mtimeMs >= ss.mtimeMs) continue;
      }
      copyFileSync(s, d);
      n++;
    }
  }
  return n;
}

/** Build the page and copy what it serves; returns the folder. */
export async function buildExplorer(opts: BuildExplorerOptions = {}): Promise<BuildExplorerResult> {
  const log = opts.log ?? (() => undefined);
  const outDir = resolve(opts.outDir ?? join(REPO_ROOT, 'dist', 'explorer'));
  mkdirSync(outDir, { recursive: true });
  const res = await build({
    entryPoints: [join(REPO_ROOT, 'explorer', 'main.ts')],
    outfile: join(outDir, 'main.js'),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    sourcemap: false,
    logLevel: 'silent',
    metafile: true,
    legalComments: 'none',
    minify: true,
    plugins: [browserPlugin()],
  });
  const mainBytes = Object.values(res.metafile.outputs)[0]?.bytes ?? 0;
  let copied = 0;
  for (const f of ['index.html', 'styles.css']) copied += copyTree(join(REPO_ROOT, 'explorer'), outDir, (n) => n !== f);
  // The wasm backend fetches its binaries from the bundle's own folder.
  copied += copyTree(join(REPO_ROOT, 'node_modules', '@tensorflow', 'tfjs-backend-wasm', 'dist'), outDir, (n) => !/^tfjs-backend-wasm.*\.wasm$/.test(n));
  for (const m of EXPLORER_MODELS) {
    const src = join(REPO_ROOT, 'models', m);
    if (existsSync(src)) copied += copyTree(src, join(outDir, 'models', m), (n) => n.endsWith('.md') || n.endsWith('.html'));
    else log(`models/${m} is missing: the page will say so`);
  }
  if (existsSync(join(REPO_ROOT, 'saes'))) copied += copyTree(join(REPO_ROOT, 'saes'), join(outDir, 'saes'), (n) => n.endsWith('.md'));
  log(`explorer built in ${outDir} (main.js ${(mainBytes / 1024).toFixed(0)} KiB, ${copied} files copied)`);
  return { outDir, copied, mainBytes };
}
