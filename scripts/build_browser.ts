/**
 * Build the browser bundle: src/browser/index.ts → dist/browser/tfjs-lens.js (ESM, minified, with a
 * source map) and the tfjs wasm files copied beside it (the bundle's backend fetches them from its
 * own folder). Node-only modules are kept out: a relative import of `X.js` whose `X.browser.ts`
 * twin exists resolves to the twin; src/ modules that use `process` get a small stand-in
 * (src/browser/process_shim.ts) imported; a `node:*` import left anywhere fails the build, naming
 * the importer.
 * Usage: tsx scripts/build_browser.ts [--outdir dist/browser] [--no-minify]
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import * as esbuild from 'esbuild';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SRC = join(ROOT, 'src');
const SHIM = join(SRC, 'browser', 'process_shim.ts');

/** The esbuild plugin: `*.browser.ts` twins, the `process` stand-in, and no `node:` imports. */
export function browserPlugin(): esbuild.Plugin {
  return {
    name: 'tfjs-lens-browser',
    setup(build) {
      build.onResolve({ filter: /^\.\.?\/.*\.js$/ }, (args) => {
        const base = resolve(args.resolveDir, args.path.replace(/\.js$/, ''));
        const twin = `${base}.browser.ts`;
        if (existsSync(twin) && twin !== args.importer) return { path: twin };
        return undefined;
      });
      build.onResolve({ filter: /^node:/ }, (args) => ({
        errors: [{ text: `'${args.path}' imported by ${relative(ROOT, args.importer)}: Node-only code reached the browser bundle (add a *.browser.ts twin or keep the module out of src/browser's graph)` }],
      }));
      build.onLoad({ filter: /[\\/]src[\\/].*\.ts$/ }, (args) => {
        const text = readFileSync(args.path, 'utf8');
        if (args.path === SHIM || !/(^|[^.\w])process\.(env|stderr|stdout|emitWarning|listeners|removeListener|pid)\b/m.test(text)) return { contents: text, loader: 'ts' };
        const spec = relative(dirname(args.path), SHIM).replace(/\\/g, '/').replace(/\.ts$/, '.js');
        return { contents: `import { process } from '${spec.startsWith('.') ? spec : `./${spec}`}';\n${text}`, loader: 'ts' };
      });
    },
  };
}

/** Build the bundle; returns its path and sizes. */
export async function buildBrowser(opts: { outdir?: string; minify?: boolean } = {}): Promise<{ file: string; bytes: number; gzipBytes: number; wasm: string[] }> {
  const outdir = resolve(ROOT, opts.outdir ?? 'dist/browser');
  mkdirSync(outdir, { recursive: true });
  const file = join(outdir, 'tfjs-lens.js');
  const result = await esbuild.build({
    write: false, // written below, each file renamed into place: a concurrent reader never sees half a bundle
    entryPoints: [join(SRC, 'browser', 'index.ts')],
    outfile: file,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: opts.minify !== false,
    sourcemap: true,
    legalComments: 'none',
    logLevel: 'warning',
    plugins: [browserPlugin()],
  });
  const tmpName = (f: string): string => `${f}.${process.pid}.tmp`;
  for (const out of result.outputFiles) {
    writeFileSync(tmpName(out.path), out.contents);
    renameSync(tmpName(out.path), out.path);
  }
  const wasmDir = join(ROOT, 'node_modules', '@tensorflow', 'tfjs-backend-wasm', 'dist');
  const wasm = readdirSync(wasmDir).filter((f) => /^tfjs-backend-wasm.*\.wasm$/.test(f));
  for (const f of wasm) {
    copyFileSync(join(wasmDir, f), tmpName(join(outdir, f)));
    renameSync(tmpName(join(outdir, f)), join(outdir, f));
  }
  const bytes = statSync(file).size;
  return { file, bytes, gzipBytes: gzipSync(readFileSync(file)).byteLength, wasm };
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const at = args.indexOf('--outdir');
  const t0 = Date.now();
  const r = await buildBrowser({ ...(at >= 0 && args[at + 1] !== undefined ? { outdir: args[at + 1] } : {}), minify: !args.includes('--no-minify') });
  const kb = (n: number): string => `${(n / 1024).toFixed(0)} KiB`;
  process.stdout.write(
    `build_browser: ${relative(ROOT, r.file)} ${kb(r.bytes)} (gzip ${kb(r.gzipBytes)}) + ${r.wasm.join(', ')} in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`,
  );
}
