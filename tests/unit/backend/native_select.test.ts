/**
 * Which matmul initBackend picks (src/backend/native_select.ts): TFJS_LENS_NATIVE_MATMUL=0 → wasm;
 * no addon built → wasm and one hint line, once per process; an addon that does not load → wasm
 * and one line; the built addon → native, reported by backendInfo() and the backend line, with the
 * thread budget going to the BLAS. initBackend runs once per process, so those cases run in children.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_NATIVE_ADDON } from '../../../src/backend/native_matmul.js';
import { NATIVE_HINT, nativeMatmulSetting, selectMatmul } from '../../../src/backend/native_select.js';

const CHILD = `
import { initBackend } from './src/backend/backend.js';
const info = await initBackend('wasm');
process.stdout.write(JSON.stringify(info));
`;

interface Child { readonly info: { threadCount: number; matmul: { path: string; reason?: string; native?: { threads: number; vendor: string } } }; readonly stderr: string; readonly stdout: string }

function runChild(env: Record<string, string>): Promise<Child> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
  for (const k of ['TFJS_LENS_QUIET', 'TFJS_LENS_BACKEND', 'OPENBLAS_NUM_THREADS', 'OMP_NUM_THREADS']) if (!(k in env)) delete childEnv[k];
  if (!('TFJS_LENS_NATIVE_MATMUL' in env)) delete childEnv['TFJS_LENS_NATIVE_MATMUL'];
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', CHILD], { cwd: process.cwd(), env: childEnv, timeout: 90_000 }, (err, stdout, stderr) => {
      if (err !== null) reject(new Error(`child failed: ${err.message}\n${stderr}`));
      else resolve({ info: JSON.parse(stdout) as Child['info'], stderr, stdout });
    });
  });
}

const lines = (s: string): string[] => s.split('\n').filter((l) => l.startsWith('tfjs-lens:'));
const built = existsSync(DEFAULT_NATIVE_ADDON);

describe('TFJS_LENS_NATIVE_MATMUL', () => {
  const saved = process.env['TFJS_LENS_NATIVE_MATMUL'];
  afterEach(() => {
    if (saved === undefined) delete process.env['TFJS_LENS_NATIVE_MATMUL'];
    else process.env['TFJS_LENS_NATIVE_MATMUL'] = saved;
  });

  it('parses off / default / a path', () => {
    for (const v of ['0', 'off', 'false', ' no ']) expect(nativeMatmulSetting(v)).toBe('off');
    for (const v of [undefined, '', '1', 'on']) expect(nativeMatmulSetting(v)).toBe('default');
    expect(nativeMatmulSetting('build/x.node')).toEqual({ path: 'build/x.node' });
  });

  it('=0 selects wasm, silently', () => {
    process.env['TFJS_LENS_NATIVE_MATMUL'] = '0';
    const written: string[] = [];
    expect(selectMatmul(false, 1, (l) => written.push(l))).toEqual({ path: 'wasm', reason: 'TFJS_LENS_NATIVE_MATMUL=0' });
    expect(written).toEqual([]);
  });

  it('no addon built: wasm, and one line saying how to get the native path, once per process (none when quiet)', () => {
    delete process.env['TFJS_LENS_NATIVE_MATMUL'];
    const written: string[] = [];
    const missing = '/nonexistent/tfjs_lens_blas.node';
    expect(selectMatmul(true, 1, (l) => written.push(l), missing).path).toBe('wasm');
    expect(written).toEqual([]);
    const r = selectMatmul(false, 1, (l) => written.push(l), missing);
    expect(r).toEqual({ path: 'wasm', reason: `native addon not built (${missing})` });
    selectMatmul(false, 1, (l) => written.push(l), missing);
    expect(written).toEqual([`tfjs-lens: ${NATIVE_HINT}\n`]);
    expect(NATIVE_HINT).toMatch(/libopenblas0-pthread.*npm ci.*install_native\.mjs/);
  });
});

describe('initBackend picks the matmul (child processes)', () => {
  it('an addon path that does not load: wasm, one line, nothing on stdout but the JSON', async () => {
    const c = await runChild({ TFJS_LENS_NATIVE_MATMUL: '/nonexistent/x.node' });
    expect(c.info.matmul.path).toBe('wasm');
    expect(c.info.matmul.reason).toMatch(/cannot load \/nonexistent\/x\.node/);
    const l = lines(c.stderr);
    expect(l.filter((x) => /native matmul/.test(x))).toEqual([`tfjs-lens: ${c.info.matmul.reason}; using the wasm matmul`]);
    expect(l.filter((x) => /backend wasm/.test(x))).toHaveLength(1);
  });

  it('=0: wasm on the requested wasm threads, no matmul line', async () => {
    const c = await runChild({ TFJS_LENS_NATIVE_MATMUL: '0', TFJS_LENS_QUIET: '1' });
    expect(c.info.matmul).toEqual({ path: 'wasm', reason: 'TFJS_LENS_NATIVE_MATMUL=0' });
    expect(lines(c.stderr)).toEqual([]);
  });

  it.skipIf(!built)('the built addon by default: native, reported; TFJS_LENS_WASM_THREADS=2 goes to the BLAS, wasm on one thread', async () => {
    const c = await runChild({ TFJS_LENS_WASM_THREADS: '2' });
    expect(c.info.matmul.path).toBe('native');
    expect(c.info.matmul.native?.threads).toBe(2);
    expect(c.info.threadCount).toBe(1);
    expect(lines(c.stderr)).toEqual([expect.stringMatching(/^tfjs-lens: backend wasm \(simd=true, threads=false, matmul OpenBLAS \d+\.\d+\.\d+ \S+ x2\)/)]);
    const q = await runChild({ TFJS_LENS_WASM_THREADS: '2', OPENBLAS_NUM_THREADS: '1', TFJS_LENS_QUIET: '1' });
    expect(q.info.matmul.native?.threads).toBe(1); // OPENBLAS_NUM_THREADS wins
    expect(lines(q.stderr)).toEqual([]);
  });
});
