/**
 * scripts/install_native.mjs, npm's "install" script: builds the native matmul addon when it can,
 * never fails the install, prints one line when it skips, refuses the netlib reference BLAS, and
 * writes atomically. Each case runs the script in a child process with its own PATH/env and --out.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const SCRIPT = join(process.cwd(), 'scripts', 'install_native.mjs');
const NETLIB = '/usr/lib/x86_64-linux-gnu/blas/libblas.so.3';
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function outDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'tfjs-lens-install-'));
  dirs.push(d);
  return d;
}

function run(env: NodeJS.ProcessEnv, args: string[]): { code: number | null; stderr: string; stdout: string } {
  const base: NodeJS.ProcessEnv = { ...process.env };
  for (const k of ['TFJS_LENS_NATIVE_MATMUL', 'TFJS_LENS_BLAS_LIB', 'OPENBLAS_LIB', 'CC']) delete base[k];
  const r = spawnSync(process.execPath, [SCRIPT, ...args], { env: { ...base, ...env }, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stderr: r.stderr, stdout: r.stdout };
}

const lines = (s: string): string[] => s.split('\n').filter((l) => l !== '');
const hasCc = spawnSync('cc', ['--version'], { stdio: 'ignore' }).status === 0;
const hasOpenblas = ['/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0', '/usr/lib/x86_64-linux-gnu/libopenblas.so.0', '/usr/lib/aarch64-linux-gnu/openblas-pthread/libopenblas.so.0']
  .some((f) => existsSync(f));

describe('scripts/install_native.mjs', () => {
  it('without a C compiler: exit 0, one stderr line naming the fix, nothing written', () => {
    const out = join(outDir(), 'a.node');
    const r = run({ PATH: '/nonexistent' }, ['--out', out]);
    expect(r.code).toBe(0);
    expect(lines(r.stderr)).toHaveLength(1);
    expect(r.stderr).toMatch(/no C compiler/);
    expect(r.stderr).toMatch(/libopenblas0-pthread/);
    expect(r.stdout).toBe('');
    expect(existsSync(out)).toBe(false);
  });

  it('TFJS_LENS_NATIVE_MATMUL=0 skips the build with one line', () => {
    const out = join(outDir(), 'a.node');
    const r = run({ TFJS_LENS_NATIVE_MATMUL: '0' }, ['--out', out]);
    expect(r.code).toBe(0);
    expect(lines(r.stderr)).toEqual(['tfjs-lens: native matmul build skipped (TFJS_LENS_NATIVE_MATMUL=0)']);
    expect(existsSync(out)).toBe(false);
  });

  it('a named BLAS library that does not exist: skipped, exit 0', () => {
    const out = join(outDir(), 'a.node');
    const r = run({ TFJS_LENS_BLAS_LIB: '/nonexistent/libopenblas.so.0' }, ['--out', out]);
    expect(r.code).toBe(0);
    expect(lines(r.stderr)).toHaveLength(1);
    expect(existsSync(out)).toBe(false);
  });

  it('an error (output directory cannot be created) still exits 0 with one line; --strict exits 1', () => {
    const file = join(outDir(), 'a-file');
    writeFileSync(file, '');
    const r = run({}, ['--out', join(file, 'sub', 'a.node')]); // ENOTDIR
    expect(r.code).toBe(0);
    expect(lines(r.stderr)).toHaveLength(1);
    expect(r.stderr).toMatch(/^tfjs-lens: native matmul not built/);
    expect(run({}, ['--out', join(file, 'sub', 'a.node'), '--strict']).code).toBe(1);
  });

  it.skipIf(!hasCc || !existsSync(NETLIB))('refuses the netlib reference BLAS, naming the fix (exit 0; --strict exit 1)', () => {
    const dir = outDir();
    const out = join(dir, 'a.node');
    const r = run({ TFJS_LENS_BLAS_LIB: NETLIB }, ['--out', out]);
    expect(r.code).toBe(0);
    expect(lines(r.stderr)).toHaveLength(1);
    expect(r.stderr).toMatch(/blas\/libblas\.so\.3 is not OpenBLAS/);
    expect(r.stderr).toMatch(/apt-get install libopenblas0-pthread/);
    expect(r.stderr).toMatch(/update-alternatives --set libblas\.so\.3-x86_64-linux-gnu .*openblas-pthread\/libblas\.so\.3/);
    expect(readdirSync(dir)).toEqual([]); // no addon, no temp file
    expect(run({ TFJS_LENS_BLAS_LIB: NETLIB }, ['--out', out, '--strict']).code).toBe(1);
  });

  it.skipIf(!hasCc || !hasOpenblas)('builds against the system OpenBLAS: one line, the addon and no temp file', () => {
    const dir = outDir();
    const out = join(dir, 'tfjs_lens_blas.node');
    const r = run({}, ['--out', out, '--strict']);
    expect(r.code).toBe(0);
    expect(lines(r.stderr)).toHaveLength(1);
    expect(r.stderr).toMatch(/native matmul built: .*OpenBLAS \d+\.\d+\.\d+/);
    expect(readdirSync(dir)).toEqual(['tfjs_lens_blas.node']);
  });

  it('package.json runs it at install and ships it with the C source', () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string>; files: string[] };
    expect(pkg.scripts['install']).toBe('node scripts/install_native.mjs');
    expect(pkg.files).toEqual(expect.arrayContaining(['native', 'scripts/install_native.mjs']));
  });
});
