/**
 * Threaded-SIMD wasm under Node (`TFJS_LENS_WASM_THREADS=<n>`), as a runtime shim: nothing in
 * node_modules is edited. tfjs-backend-wasm 4.22 ships the threaded build but keeps it off in Node
 * for four reasons, each handled here, with patches that last only while `tf.setBackend('wasm')`
 * runs (see `openWindow`):
 *
 * 1. `WASM_HAS_MULTITHREAD_SUPPORT` evaluates to false when `IS_NODE`: we set the flag to true
 *    (after checking SharedArrayBuffer and wasm atomics ourselves).
 * 2. The pthread worker script is handed to Emscripten as a Blob URL (`URL.createObjectURL`), which
 *    `worker_threads.Worker` cannot load: we replace `URL.createObjectURL` meanwhile so that the
 *    worker blob becomes a temp `.cjs` file holding the same Emscripten worker code.
 * 3. The C++ side caps the XNNPACK pool at `emscripten_num_logical_cores() / 2`, which Emscripten
 *    reads from `os.cpus().length` when the module starts: `os.cpus` meanwhile reports 2n entries,
 *    so that `setThreadsCount(n)` is honoured (on a 2-core machine the cap would be 1).
 * 4. The main script reaches each worker as a Blob of `factory.toString()` taken from the rolled-up
 *    Node bundle; that text refers to bundle-private variables (`require$$0`, `commonjsGlobal`) and
 *    cannot run in a worker. The worker file therefore maps that Blob to the package's own
 *    Emscripten glue, `wasm-out/tfjs-backend-wasm-threaded-simd.js` (same build, same `.wasm`).
 *
 * Meanwhile `worker_threads.Worker` is wrapped too: the pthread workers start with `execArgv: []`
 * (the parent's flags, e.g. `--input-type` or a TS loader, would break or slow them) and their
 * errors during init lead to the caller's single-threaded fallback instead of an uncaught throw.
 * After init the pthread workers are `unref()`ed so that they do not keep the process alive.
 * See docs/performance.md, "Both cores: threaded wasm under Node".
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { getThreadsCount, setThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { BackendError } from '../errors.js';

/**
 * Emscripten's pthread pool size in the tfjs-backend-wasm 4.22 threaded build: that many workers
 * are started (and loaded) during init. More threads would need workers created later, outside
 * the shim's window, so `TFJS_LENS_WASM_THREADS` is capped at this.
 * @category Backend
 */
export const WASM_MAX_THREADS = 8;

/** Give up on threaded init (and fall back) after this long. */
const INIT_TIMEOUT_MS = 60_000;

const PKG = '@tensorflow/tfjs-backend-wasm';
const GLUE = `${PKG}/wasm-out/tfjs-backend-wasm-threaded-simd.js`;
const WORKER = `${PKG}/wasm-out/tfjs-backend-wasm-threaded-simd.worker.js`;
const WORKER_FILE = 'pthread-worker.cjs';

/**
 * Parse `TFJS_LENS_WASM_THREADS`: unset, empty or `1` is 1 (single-threaded, the default); `n >= 2`
 * asks for the threaded build with n threads (capped at {@link WASM_MAX_THREADS}).
 * @returns The requested thread count, 1 meaning "do not use threads".
 * @throws {@link "tfjs-lens"!BackendError} when the value is not a positive integer.
 * @category Backend
 */
export function wasmThreadsFromEnv(): number {
  const raw = process.env['TFJS_LENS_WASM_THREADS'];
  if (raw === undefined || raw.trim() === '') return 1;
  const n = Number(raw.trim());
  if (!Number.isInteger(n) || n < 1) {
    throw new BackendError(
      `initBackend: TFJS_LENS_WASM_THREADS must be a positive integer, got '${raw}'`,
    );
  }
  return Math.min(n, WASM_MAX_THREADS);
}

/** Wasm threads need SharedArrayBuffer, worker_threads and the atomics opcodes. */
function threadsUsable(): boolean {
  const ch = new MessageChannel();
  try {
    ch.port1.postMessage(new SharedArrayBuffer(1));
    // Same probe as tfjs (wasm-feature-detect): a module using an atomic load. (The ES2022 lib
    // declares no WebAssembly value.)
    const wasm = (globalThis as unknown as { WebAssembly: { validate(b: Uint8Array): boolean } })
      .WebAssembly;
    return wasm.validate(new Uint8Array([
      0, 97, 115, 109, 1, 0, 0, 0, 1, 4, 1, 96, 0, 0, 3, 2, 1, 0, 5,
      4, 1, 3, 1, 1, 10, 11, 1, 9, 0, 65, 0, 254, 16, 2, 0, 26, 11,
    ]));
  } catch {
    return false;
  } finally {
    ch.port1.close();
    ch.port2.close();
  }
}

/**
 * Source of the pthread worker: one prelude line, then Emscripten's worker code verbatim. The
 * prelude makes the worker's `URL.createObjectURL` (applied to the main-script Blob) return the
 * path of the package's glue file, which `importScripts` then evaluates.
 */
function workerSource(gluePath: string, emscriptenWorker: string): string {
  return [
    '"use strict";',
    '// Written by tfjs-lens (src/backend/threads.ts): tfjs-backend-wasm pthread worker for Node.',
    `URL.createObjectURL = () => ${JSON.stringify(gluePath)}; URL.revokeObjectURL = () => {};`,
    emscriptenWorker,
    '',
  ].join('\n');
}

type WorkerCtor = typeof import('node:worker_threads').Worker;
type NodeWorker = InstanceType<WorkerCtor>;

/** What {@link openWindow} patched, and what the pthread workers did meanwhile. */
interface InitWindow {
  readonly workers: NodeWorker[];
  /** First error a pthread worker raised during init. */
  error?: unknown;
  /**
   * While true (init under way, or failed), worker errors are recorded instead of reaching
   * Emscripten's handler, which rethrows them.
   */
  pending: boolean;
  /** Undo the patches (idempotent). */
  close(): void;
}

/**
 * Patch, until `close()`: `URL.createObjectURL` (worker Blob -> `workerPath`), `os.cpus` (2n
 * entries) and `worker_threads.Worker` (a factory that starts our worker file with `execArgv: []`,
 * since flags such as `--input-type` or a TS loader would otherwise be inherited, and that catches
 * worker errors during init so they end in the fallback rather than an uncaught exception).
 */
function openWindow(threads: number, workerPath: string): InitWindow {
  const req = createRequire(import.meta.url);
  // The CommonJS objects: the ones the tfjs bundle calls `.cpus()` / `.Worker` on.
  const os = req('node:os') as { cpus: () => unknown[] };
  const wt = req('node:worker_threads') as { Worker: WorkerCtor };
  const origCreate = URL.createObjectURL;
  const origCpus = os.cpus;
  const origWorker = wt.Worker;
  const win: InitWindow = { workers: [], pending: true, close: () => undefined };
  URL.createObjectURL = (obj: Blob): string =>
    obj.type === 'application/javascript' ? workerPath : origCreate.call(URL, obj);
  os.cpus = (): unknown[] => {
    const real = origCpus.call(os);
    return Array.from({ length: Math.max(real.length, 2 * threads) }, (_, i) => real[i % real.length]);
  };
  const factory = function (filename: string | URL, options?: object): NodeWorker {
    if (filename !== workerPath) return new origWorker(filename, options);
    const w = new origWorker(filename, { ...options, execArgv: [] });
    win.workers.push(w);
    let handler: ((e: unknown) => void) | undefined;
    const guarded = (e: unknown): void => {
      if (win.pending) win.error ??= e;
      else handler?.(e);
    };
    // Emscripten does worker.on('error', e => worker.onerror(e)) and its onerror rethrows.
    Object.defineProperty(w, 'onerror', {
      configurable: true,
      get: () => guarded,
      set: (h: (e: unknown) => void) => { handler = h; },
    });
    return w;
  };
  wt.Worker = factory as unknown as WorkerCtor;
  win.close = (): void => {
    URL.createObjectURL = origCreate;
    os.cpus = origCpus;
    wt.Worker = origWorker;
    // Emscripten copied the factory to the global `Worker`; give it the real one back.
    const g = globalThis as { Worker?: unknown };
    if (g.Worker === factory) g.Worker = origWorker;
  };
  return win;
}

interface PThreadLike {
  readonly runningWorkers: { unref(): void }[];
  readonly unusedWorkers: { unref(): void }[];
}

/** The Emscripten module behind the current wasm backend, when it is the threaded build. */
function pthreads(): PThreadLike | undefined {
  const backend = tf.engine().backend as unknown as { wasm?: { PThread?: PThreadLike } };
  return backend.wasm?.PThread;
}

/**
 * Number of threads the initialised wasm backend computes on: 1 for the single-threaded builds.
 * @category Backend
 */
export function wasmThreadCount(): number {
  try {
    return pthreads() === undefined ? 1 : getThreadsCount();
  } catch {
    return 1;
  }
}

/** Race `p` against a timeout and against a pthread worker error during init. */
function watched<T>(p: Promise<T>, win: InitWindow, ms: number): Promise<T> {
  let poll: NodeJS.Timeout | undefined;
  const failed = new Promise<never>((_, reject) => {
    const t0 = Date.now();
    poll = setInterval(() => {
      if (win.error !== undefined) {
        const e = win.error;
        reject(new BackendError(`a pthread worker failed: ${e instanceof Error ? e.message : String(e)}`));
      } else if (Date.now() - t0 > ms) {
        reject(new BackendError(`pthread workers did not load within ${ms / 1000} s`));
      }
    }, 20);
  });
  return Promise.race([p, failed]).finally(() => clearInterval(poll));
}

/**
 * Initialise the wasm backend on the threaded-SIMD build with `threads` threads. Must run before
 * the wasm backend was first initialised in this process. On failure the caller should call
 * {@link resetWasmThreads} and initialise the single-threaded build instead.
 *
 * @param threads Thread count, 2..{@link WASM_MAX_THREADS}.
 * @returns The thread count tfjs reports after init.
 * @throws {@link "tfjs-lens"!BackendError} when the threaded build cannot be started.
 * @category Backend
 */
export async function activateThreadedWasm(threads: number): Promise<number> {
  await preflight(threads);
  const dir = writeWorkerFile();
  const win = openWindow(threads, join(dir, WORKER_FILE));
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
  setThreadsCount(threads);
  let failure: string | undefined;
  try {
    const ok = await watched(tf.setBackend('wasm'), win, INIT_TIMEOUT_MS);
    await tf.ready();
    if (!ok || tf.getBackend() !== 'wasm' || pthreads() === undefined) {
      failure = 'tfjs did not start the threaded build';
    }
  } catch (err) {
    failure = err instanceof Error ? err.message : String(err);
  } finally {
    win.close();
  }
  if (failure !== undefined) {
    // Stop what did start (their late errors stay swallowed: `pending` remains true); the init
    // that may still be under way then never completes.
    await Promise.allSettled(win.workers.map((w) => w.terminate()));
    rmSync(dir, { recursive: true, force: true });
    throw new BackendError(`threaded wasm: init failed: ${failure}`);
  }
  // From now on worker errors reach Emscripten as before.
  win.pending = false;
  // Every pool worker has loaded (Emscripten waits for that), so the file is no longer needed.
  rmSync(dir, { recursive: true, force: true });
  // Pthreads that run (XNNPACK's pool) are ref()ed by Emscripten and would keep Node alive.
  const pool = pthreads() as PThreadLike;
  for (const w of [...pool.runningWorkers, ...pool.unusedWorkers]) w.unref();
  return getThreadsCount();
}

async function preflight(threads: number): Promise<void> {
  if (!Number.isInteger(threads) || threads < 2 || threads > WASM_MAX_THREADS) {
    throw new BackendError(`threaded wasm: thread count must be 2..${WASM_MAX_THREADS}, got ${threads}`);
  }
  if (tf.engine().registry['wasm'] !== undefined) {
    throw new BackendError('threaded wasm: the wasm backend was already initialised in this process');
  }
  if (!threadsUsable()) {
    throw new BackendError('threaded wasm: SharedArrayBuffer or wasm atomics unavailable');
  }
  if ((await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) !== true) {
    throw new BackendError('threaded wasm: needs wasm SIMD (the threaded build is SIMD-only)');
  }
}

/** Write the pthread worker script to a fresh temp directory; returns the directory. */
function writeWorkerFile(): string {
  const req = createRequire(import.meta.url);
  try {
    const contents = (req(WORKER) as { wasmWorkerContents: string }).wasmWorkerContents;
    // Emscripten's worker code holds "\n" escapes; tfjs escapes them again before making its Blob.
    const source = workerSource(req.resolve(GLUE), contents.replace(/\n/g, '\\n'));
    const dir = mkdtempSync(join(tmpdir(), 'tfjs-lens-wasm-'));
    writeFileSync(join(dir, WORKER_FILE), source);
    return dir;
  } catch (err) {
    throw new BackendError(`threaded wasm: cannot prepare the pthread worker: ${String(err)}`);
  }
}

/**
 * Undo {@link activateThreadedWasm}'s settings after it failed, so that the next
 * `tf.setBackend('wasm')` starts the single-threaded SIMD build. A threaded init that is still
 * under way (timed out) then starts no pthreads: tfjs reads the thread count when it finishes.
 * @category Backend
 */
export function resetWasmThreads(): void {
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  setThreadsCount(1);
}
