/**
 * Threaded wasm under Node (TFJS_LENS_WASM_THREADS): child processes on 1 and 2 threads compute the
 * same matmuls and GPT-2 logits, report the truth about threads, fall back cleanly, and exit on
 * their own (pthread workers must not keep Node alive).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { activateThreadedWasm, WASM_MAX_THREADS, wasmThreadsFromEnv } from '../../../src/backend/threads.js';
import { BackendError } from '../../../src/errors.js';

// Runs in a child `node --import tsx` from the repository root; writes its results to CHILD_OUT.
// No process.exit: the child has to end by itself.
const CHILD = `
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { initBackend, tf } from './src/backend/backend.js';
import { HookedTransformer } from './src/model/hooked_transformer.js';
const out = process.env.CHILD_OUT;
if (process.env.CHILD_NO_SIMD === '1') tf.env().set('WASM_HAS_SIMD_SUPPORT', false);
const info = await initBackend('wasm');
writeFileSync(join(out, 'info.json'), JSON.stringify(info));
const a = tf.randomUniform([256, 768], -1, 1, 'float32', 1);
const b = tf.randomUniform([768, 3072], -1, 1, 'float32', 2);
writeFileSync(join(out, 'matmul.f32'), tf.matMul(a, b).dataSync());
const q = tf.randomUniform([12, 128, 64], -1, 1, 'float32', 3);
const k = tf.randomUniform([12, 128, 64], -1, 1, 'float32', 4);
writeFileSync(join(out, 'bmm.f32'), tf.matMul(q, k, false, true).dataSync());
const model = await HookedTransformer.fromPretrained(resolve('tests/fixtures/gpt2-tiny'), { quiet: true });
const tokens = [0, 1].map((r) => Array.from({ length: 64 }, (_, j) => (r * 131 + j * 37) % 999));
writeFileSync(join(out, 'logits.f32'), model.logits(tokens).dataSync());
`;

interface ChildRun {
  readonly code: number | null;
  readonly killed: boolean;
  readonly stderr: string;
  readonly dir: string;
}

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function runChild(env: Record<string, string>): Promise<ChildRun> {
  const dir = mkdtempSync(join(tmpdir(), 'tfjs-lens-threads-test-'));
  dirs.push(dir);
  // Native matmul off: with it, wasm runs on one thread (the BLAS gets the threads).
  const childEnv: NodeJS.ProcessEnv = { ...process.env, TFJS_LENS_NATIVE_MATMUL: '0', CHILD_OUT: dir, ...env };
  delete childEnv['TFJS_LENS_QUIET'];
  delete childEnv['TFJS_LENS_BACKEND'];
  return new Promise((resolvePromise) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', CHILD],
      { cwd: process.cwd(), env: childEnv, timeout: 60_000 },
      (err, _stdout, stderr) => {
        resolvePromise({
          code: err === null ? 0 : typeof err.code === 'number' ? err.code : null,
          killed: err?.killed === true,
          stderr,
          dir,
        });
      },
    );
  });
}

function f32(run: ChildRun, name: string): Float32Array {
  const buf = readFileSync(join(run.dir, name));
  return new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  return m;
}

describe('TFJS_LENS_WASM_THREADS parsing', () => {
  const saved = process.env['TFJS_LENS_WASM_THREADS'];
  afterAll(() => {
    if (saved === undefined) delete process.env['TFJS_LENS_WASM_THREADS'];
    else process.env['TFJS_LENS_WASM_THREADS'] = saved;
  });

  it('unset/empty/1 mean single-threaded, n >= 2 asks for n (capped), junk is a BackendError', () => {
    const parse = (v: string | undefined): number => {
      if (v === undefined) delete process.env['TFJS_LENS_WASM_THREADS'];
      else process.env['TFJS_LENS_WASM_THREADS'] = v;
      return wasmThreadsFromEnv();
    };
    expect(parse(undefined)).toBe(1);
    expect(parse('')).toBe(1);
    expect(parse('1')).toBe(1);
    expect(parse(' 2 ')).toBe(2);
    expect(parse('64')).toBe(WASM_MAX_THREADS);
    for (const bad of ['0', '-2', '1.5', 'two']) expect(() => parse(bad)).toThrow(BackendError);
  });

  it('activateThreadedWasm rejects thread counts outside 2..max', async () => {
    await expect(activateThreadedWasm(1)).rejects.toThrow(/2\.\.8/);
    await expect(activateThreadedWasm(WASM_MAX_THREADS + 1)).rejects.toThrow(BackendError);
  });
});

describe('threaded wasm in a child process', () => {
  let single: ChildRun;
  let threaded: ChildRun;
  let fallback: ChildRun;

  it('1 and 2 threads give the same results; threads are reported; both exit on their own', async () => {
    [single, threaded, fallback] = await Promise.all([
      runChild({ TFJS_LENS_WASM_THREADS: '1' }),
      runChild({ TFJS_LENS_WASM_THREADS: '2' }),
      runChild({ TFJS_LENS_WASM_THREADS: '2', CHILD_NO_SIMD: '1' }),
    ]);
    for (const r of [single, threaded]) {
      expect(r.killed, r.stderr).toBe(false);
      expect(r.code, r.stderr).toBe(0);
    }
    const info1 = JSON.parse(readFileSync(join(single.dir, 'info.json'), 'utf8'));
    const info2 = JSON.parse(readFileSync(join(threaded.dir, 'info.json'), 'utf8'));
    expect(info1).toMatchObject({ name: 'wasm', simd: true, threads: false, threadCount: 1 });
    expect(info2).toMatchObject({ name: 'wasm', simd: true, threads: true, threadCount: 2 });
    expect(threaded.stderr).toMatch(/threads=true x2/);
    expect(threaded.stderr).not.toMatch(/falling back/);
    for (const name of ['matmul.f32', 'bmm.f32', 'logits.f32']) {
      expect(maxAbsDiff(f32(single, name), f32(threaded, name)), name).toBeLessThan(1e-5);
    }
  });

  it('a failed threaded init falls back to one thread, says so once, and exits', () => {
    expect(fallback.killed, fallback.stderr).toBe(false);
    expect(fallback.code, fallback.stderr).toBe(0);
    const info = JSON.parse(readFileSync(join(fallback.dir, 'info.json'), 'utf8'));
    expect(info).toMatchObject({ name: 'wasm', threads: false, threadCount: 1 });
    expect(fallback.stderr.match(/falling back to single-threaded wasm/g)).toHaveLength(1);
    expect(fallback.stderr).toMatch(/needs wasm SIMD/);
  });
});
