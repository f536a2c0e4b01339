#!/usr/bin/env node
/*
 * npm "install" script: build the native matmul addon (native/blas_matmul.c →
 * build/native/tfjs_lens_blas.node) with the system C compiler, Node's own headers and the
 * system BLAS: OpenBLAS on Linux (Debian/Ubuntu: libopenblas0-pthread), Apple Accelerate on macOS.
 * No node-gyp, no download. Plain JavaScript: it runs for consumers of the published package too.
 *
 * It never fails the install: without a compiler, Node's headers or OpenBLAS it prints one line on
 * stderr and exits 0, and the library runs on wasm. A netlib reference BLAS (libblas.so.3 from
 * libblas3, 10-50x slower than OpenBLAS) is refused with a message naming the fix.
 * TFJS_LENS_NATIVE_MATMUL=0 skips the build. The addon is written atomically (temp file + rename).
 *
 * Use: node scripts/install_native.mjs [--out <file.node>] [--strict]
 *   --strict: exit 1 when nothing was built (developer use, scripts/build_native_matmul.sh).
 * Env: CC (compiler, default cc), TFJS_LENS_BLAS_LIB or OPENBLAS_LIB (the BLAS library file to
 * link), TFJS_LENS_NODE_INCLUDE (directory holding node_api.h).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import process from 'node:process';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SOURCE = join(ROOT, 'native', 'blas_matmul.c');
export const DEFAULT_OUT = join(ROOT, 'build', 'native', 'tfjs_lens_blas.node');
const FIX =
  'install OpenBLAS (Debian/Ubuntu: apt-get install libopenblas0-pthread; Fedora: dnf install openblas) ' +
  'and re-run npm ci or node scripts/install_native.mjs';

/** Directory holding node_api.h, or undefined. */
export function findNodeInclude(env = process.env) {
  const candidates = [
    env.TFJS_LENS_NODE_INCLUDE,
    join(process.execPath, '..', '..', 'include', 'node'),
    env.npm_config_nodedir ? join(env.npm_config_nodedir, 'include', 'node') : undefined,
    process.config?.variables?.node_prefix ? join(String(process.config.variables.node_prefix), 'include', 'node') : undefined,
    join(homedir(), '.cache', 'node-gyp', process.versions.node, 'include', 'node'),
    '/usr/include/node',
    '/usr/local/include/node',
  ];
  return candidates.find((d) => typeof d === 'string' && d !== '' && existsSync(join(d, 'node_api.h')));
}

/** The BLAS library file to link on Linux, or undefined. */
export function findLinuxBlas(env = process.env) {
  const given = env.TFJS_LENS_BLAS_LIB || env.OPENBLAS_LIB;
  if (given) return existsSync(given) ? given : undefined;
  const triplets = ['x86_64-linux-gnu', 'aarch64-linux-gnu', 'powerpc64le-linux-gnu', 's390x-linux-gnu', 'riscv64-linux-gnu'];
  const candidates = [];
  for (const t of triplets) {
    candidates.push(`/usr/lib/${t}/openblas-pthread/libopenblas.so.0`, `/usr/lib/${t}/libopenblas.so.0`, `/usr/lib/${t}/openblas-openmp/libopenblas.so.0`);
  }
  candidates.push('/usr/lib64/libopenblasp.so.0', '/usr/lib64/libopenblas.so.0', '/usr/lib/libopenblas.so.0', '/usr/local/lib/libopenblas.so.0', '/opt/OpenBLAS/lib/libopenblas.so.0');
  const hit = candidates.find((f) => existsSync(f));
  if (hit) return hit;
  const ld = spawnSync('ldconfig', ['-p'], { encoding: 'utf8', env: { ...env, PATH: `${env.PATH ?? ''}:/sbin:/usr/sbin` } });
  const m = /libopenblas[a-z]*\.so\.0 \([^)]*\) => (\S+)/.exec(ld.stdout ?? '');
  return m ? m[1] : undefined;
}

/** libblas.so.3 (any BLAS the alternatives system selects), used only to explain a refusal. */
function findLibblas() {
  return ['/usr/lib/x86_64-linux-gnu/libblas.so.3', '/usr/lib/aarch64-linux-gnu/libblas.so.3', '/usr/lib64/libblas.so.3', '/usr/lib/libblas.so.3'].find((f) => existsSync(f));
}

/** The netlib-reference refusal, naming the fix. */
export function referenceBlasMessage(library) {
  return (
    `${library} is not OpenBLAS (the netlib reference BLAS is 10-50x slower): install libopenblas0-pthread ` +
    '(apt-get install libopenblas0-pthread), or select OpenBLAS for libblas.so.3: ' +
    'update-alternatives --set libblas.so.3-x86_64-linux-gnu /usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3'
  );
}

const VERIFY = `
const a = require(process.argv[1]);
const i = a.info();
const A = new Float32Array([1, 2, 3, 4, 5, 6]), B = new Float32Array([1, 0, -1, 2, 0.5, 3]), C = new Float32Array(4);
a.sgemm(A, B, C, 2, 2, 3, false, false, null);
const want = [1 - 2 + 1.5, 0 + 4 + 9, 4 - 5 + 3, 0 + 10 + 18];
const ok = want.every((w, j) => Math.abs(w - C[j]) < 1e-5);
process.stdout.write(JSON.stringify({ ...i, ok }));
`;

/**
 * Build the addon. Returns { status: 'built' | 'skipped' | 'refused', message }.
 * @param {{ out?: string, env?: NodeJS.ProcessEnv }} opts
 */
export function build(opts = {}) {
  const env = opts.env ?? process.env;
  const out = resolve(opts.out ?? DEFAULT_OUT);
  if (env.TFJS_LENS_NATIVE_MATMUL === '0') return { status: 'skipped', message: 'native matmul build skipped (TFJS_LENS_NATIVE_MATMUL=0)' };
  if (process.platform !== 'linux' && process.platform !== 'darwin') {
    return { status: 'skipped', message: `no native matmul on ${process.platform} (Linux and macOS only); using wasm` };
  }
  if (!existsSync(SOURCE)) return { status: 'skipped', message: `native matmul source missing (${SOURCE}); using wasm` };
  const cc = (env.CC || 'cc').trim().split(/\s+/);
  const probe = spawnSync(cc[0], [...cc.slice(1), '--version'], { env, stdio: 'ignore', timeout: 30_000 });
  if (probe.error !== undefined || probe.status !== 0) {
    return { status: 'skipped', message: `native matmul not built: no C compiler (${cc[0]}); using wasm. For native speed ${FIX}` };
  }
  const include = findNodeInclude(env);
  if (include === undefined) return { status: 'skipped', message: `native matmul not built: Node's headers (node_api.h) not found (set TFJS_LENS_NODE_INCLUDE); using wasm` };
  let link;
  if (process.platform === 'darwin') {
    link = ['-bundle', '-undefined', 'dynamic_lookup', '-DTFJS_LENS_ACCELERATE', '-framework', 'Accelerate'];
  } else {
    const named = env.TFJS_LENS_BLAS_LIB || env.OPENBLAS_LIB;
    if (named && !existsSync(named)) return { status: 'skipped', message: `native matmul not built: the BLAS library ${named} does not exist; using wasm` };
    // No OpenBLAS: try libblas.so.3, whichever BLAS it is; the load check below refuses all but OpenBLAS.
    const blas = findLinuxBlas(env) ?? findLibblas();
    if (blas === undefined) return { status: 'skipped', message: `native matmul not built: OpenBLAS not found; using wasm. For native speed ${FIX}` };
    link = ['-shared', '-pthread', blas, `-Wl,-rpath,${dirname(blas)}`, '-ldl', '-lm'];
  }
  mkdirSync(dirname(out), { recursive: true });
  const tmp = join(dirname(out), `.tmp-${process.pid}-${basename(out)}`); // ends in .node: require() loads it as an addon
  try {
    const args = ['-O3', '-ffp-contract=off', '-fPIC', '-Wall', '-Wextra', `-I${include}`, SOURCE, '-o', tmp, ...link];
    const r = spawnSync(cc[0], [...cc.slice(1), ...args], { env, encoding: 'utf8', timeout: 180_000 });
    if (r.error !== undefined || r.status !== 0) {
      const detail = (r.stderr || String(r.error ?? '')).trim().split('\n').slice(-1)[0] ?? '';
      return { status: 'skipped', message: `native matmul not built: the compiler failed (${detail}); using wasm` };
    }
    // Load it in a fresh process: a reference BLAS (no OpenBLAS symbols) or a broken library is refused here.
    const v = spawnSync(process.execPath, ['-e', VERIFY, tmp], { env: { ...env, OPENBLAS_NUM_THREADS: '1' }, encoding: 'utf8', timeout: 60_000 });
    let info;
    try {
      info = JSON.parse(v.stdout);
    } catch {
      const detail = (v.stderr || '').trim().split('\n').find((l) => /Error|error/.test(l)) ?? `exit ${v.status}`;
      return { status: 'skipped', message: `native matmul not built: the addon does not load (${detail}); using wasm` };
    }
    if (info.vendor !== 'openblas' && info.vendor !== 'accelerate') {
      return { status: 'refused', message: `native matmul not built: ${referenceBlasMessage(info.library ?? 'the linked BLAS')}; using wasm` };
    }
    if (info.ok !== true) return { status: 'refused', message: `native matmul not built: ${info.config} gave wrong sgemm results; using wasm` };
    renameSync(tmp, out);
    return { status: 'built', message: `native matmul built: ${out} (${String(info.config).trim()}, ${info.library})` };
  } finally {
    rmSync(tmp, { force: true });
  }
}

function main() {
  const argv = process.argv.slice(2);
  const i = argv.indexOf('--out');
  const strict = argv.includes('--strict');
  let result;
  try {
    result = build({ out: i >= 0 ? argv[i + 1] : undefined });
  } catch (err) {
    result = { status: 'skipped', message: `native matmul not built: ${err instanceof Error ? err.message : String(err)}; using wasm` };
  }
  process.stderr.write(`tfjs-lens: ${result.message}\n`);
  process.exitCode = strict && result.status !== 'built' ? 1 : 0;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    main();
  } catch {
    process.exitCode = 0; // never fail an install
  }
}
