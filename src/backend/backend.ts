/**
 * Backend selection: tfjs-node-gpu, then tfjs-node (when installed), then wasm (SIMD), then the
 * pure-JS cpu backend. `TFJS_LENS_BACKEND=tensorflow|wasm|cpu` overrides the automatic choice.
 * `TFJS_LENS_WASM_THREADS=<n>` (n >= 2) runs wasm on the threaded-SIMD build (src/backend/threads.ts).
 * Also registers the autodiff gradients, which `@tensorflow/tfjs-core` alone does not.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
// The union package's CJS bundle registers every gradient config (tfjs-core's ESM files that
// do it are not loadable by Node's resolver: extensionless imports).
import '@tensorflow/tfjs';
import { installWasmKernels } from './wasm_kernels.js';
import { setBackendOrThrow } from './set_backend.js';
import { activateThreadedWasm, resetWasmThreads, wasmThreadCount, wasmThreadsFromEnv } from './threads.js';
import { BackendError } from '../errors.js';
import { describeNativeMatmul, type NativeMatmulInfo } from './native_matmul.js';
import { nativeMatmulPlanned, selectMatmul, type MatmulPath } from './native_select.js';

/** Backend names accepted by {@link initBackend} and `TFJS_LENS_BACKEND`. @category Backend */
export type BackendName = 'tensorflow' | 'wasm' | 'cpu';

/** What {@link initBackend} chose. @category Backend */
export interface BackendInfo {
  /** tfjs backend name as `tf.getBackend()` reports it. */
  readonly name: string;
  /** Where it came from: the env override, an explicit request, or automatic detection. */
  readonly source: 'env' | 'explicit' | 'auto';
  /** Package providing it, e.g. `@tensorflow/tfjs-node-gpu`. */
  readonly package: string;
  /** Whether wasm SIMD is in use (wasm only). */
  readonly simd?: boolean;
  /** Whether wasm multithreading is in use (wasm only): `threadCount > 1`. */
  readonly threads?: boolean;
  /** Threads the wasm backend computes on (wasm only; 1 unless `TFJS_LENS_WASM_THREADS` >= 2). */
  readonly threadCount?: number;
  /** The native matmul (BLAS addon), when it is in use (wasm only). */
  readonly nativeMatmul?: NativeMatmulInfo;
  /** The matmul path chosen (wasm only): native (BLAS) or wasm, with the reason. */
  readonly matmul?: MatmulPath;
}

let current: BackendInfo | undefined;
let pending: Promise<BackendInfo> | undefined;

const NATIVE_PACKAGES = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'] as const;

async function tryNative(): Promise<string | undefined> {
  for (const pkg of NATIVE_PACKAGES) {
    try {
      await import(pkg);
      if (tf.findBackend('tensorflow') !== null) return pkg;
    } catch {
      // Not installed, or its native binary is missing (its install script could not download
      // libtensorflow): fall through to the next option.
    }
  }
  return undefined;
}

function parseEnv(): BackendName | undefined {
  const raw = process.env['TFJS_LENS_BACKEND'];
  if (raw === undefined || raw === '') return undefined;
  const v = raw.trim().toLowerCase();
  if (v === 'tensorflow' || v === 'wasm' || v === 'cpu') return v;
  throw new BackendError(
    `initBackend: TFJS_LENS_BACKEND must be one of tensorflow|wasm|cpu, got '${raw}'`,
  );
}

/**
 * Start wasm: the threaded-SIMD build when `TFJS_LENS_WASM_THREADS` asks for >= 2 threads, falling
 * back (with one stderr line unless quiet) to the single-threaded build if that fails.
 */
async function activateWasm(quiet: boolean, maxThreads: number): Promise<void> {
  const want = Math.min(wasmThreadsFromEnv(), maxThreads);
  if (want >= 2 && tf.engine().registry['wasm'] === undefined) {
    try {
      await activateThreadedWasm(want);
      return;
    } catch (err) {
      resetWasmThreads();
      if (!quiet) {
        process.stderr.write(
          `tfjs-lens: ${err instanceof Error ? err.message : String(err)}; ` +
            'falling back to single-threaded wasm\n',
        );
      }
    }
  }
  await setBackendOrThrow('wasm', 'initBackend');
}

async function activate(
  name: BackendName,
  source: BackendInfo['source'],
  quiet: boolean,
): Promise<BackendInfo> {
  if (name === 'tensorflow') {
    const pkg = await tryNative();
    if (pkg === undefined) {
      throw new BackendError(
        'initBackend: backend "tensorflow" requested but neither @tensorflow/tfjs-node-gpu nor ' +
          '@tensorflow/tfjs-node could be loaded (install one, or use TFJS_LENS_BACKEND=wasm)',
      );
    }
    await setBackendOrThrow('tensorflow', 'initBackend');
    return { name: 'tensorflow', source, package: pkg };
  }
  if (name === 'wasm') {
    // One thread budget: with the native matmul, BLAS gets the threads and wasm runs on one
    // (docs/performance.md, "Native matmul").
    await activateWasm(quiet, nativeMatmulPlanned() ? 1 : Infinity);
    installWasmKernels();
    const threadCount = wasmThreadCount();
    const matmul = selectMatmul(quiet, Math.max(threadCount, wasmThreadsFromEnv()));
    const nativeMatmul = matmul.native;
    return {
      name,
      source,
      package: '@tensorflow/tfjs-backend-wasm',
      simd: tf.env().getBool('WASM_HAS_SIMD_SUPPORT'),
      threads: threadCount > 1,
      threadCount,
      ...(nativeMatmul === undefined ? {} : { nativeMatmul }),
      matmul,
    };
  }
  await setBackendOrThrow(name, 'initBackend');
  return { name, source, package: '@tensorflow/tfjs-backend-cpu' };
}

async function choose(requested: BackendName | undefined, quiet: boolean): Promise<BackendInfo> {
  const fromEnv = parseEnv();
  wasmThreadsFromEnv(); // validate TFJS_LENS_WASM_THREADS up front: 'auto' below swallows errors
  const want = requested ?? fromEnv;
  if (want !== undefined) return activate(want, requested !== undefined ? 'explicit' : 'env', quiet);
  const native = await tryNative();
  if (native !== undefined) {
    await setBackendOrThrow('tensorflow', 'initBackend');
    return { name: 'tensorflow', source: 'auto', package: native };
  }
  try {
    return await activate('wasm', 'auto', quiet);
  } catch {
    return activate('cpu', 'auto', quiet);
  }
}

/**
 * Run the backend start-up, then remove the process-level 'uncaughtException'/'unhandledRejection'
 * listeners it added. The wasm backend's emscripten module installs listeners that rethrow
 * (`tf-backend-wasm.node.js`: `process.on("uncaughtException", (ex) => { throw ex })`), so Node
 * prints the module's source (about 39 KB) before any uncaught error of the user's script; without
 * them Node prints the user's error as usual. The module never needs them (tfjs never calls exit()).
 */
async function withoutAddedProcessHandlers<T>(start: () => Promise<T>): Promise<T> {
  const exceptions = new Set(process.listeners('uncaughtException'));
  const rejections = new Set(process.listeners('unhandledRejection'));
  try {
    return await start();
  } finally {
    for (const l of process.listeners('uncaughtException')) if (!exceptions.has(l)) process.removeListener('uncaughtException', l);
    for (const l of process.listeners('unhandledRejection')) if (!rejections.has(l)) process.removeListener('unhandledRejection', l);
  }
}

/**
 * Initialise the tfjs backend once per process and report the choice. Later calls return the same
 * info unless a different backend is requested explicitly.
 *
 * @param backend Force a backend; default: `TFJS_LENS_BACKEND`, else the best installed one.
 * @param opts.quiet Do not print the chosen backend on stderr.
 * @returns The backend in use.
 * @throws {@link "tfjs-lens"!BackendError} when the requested backend cannot be initialised.
 * @example
 * const info = await initBackend();   // { name: 'wasm', simd: true, ... }
 * @category Backend
 */
export async function initBackend(
  backend?: BackendName,
  opts: { quiet?: boolean } = {},
): Promise<BackendInfo> {
  if (current !== undefined && (backend === undefined || backend === current.name)) return current;
  if (pending !== undefined && backend === undefined) return pending;
  const quiet = opts.quiet === true || process.env['TFJS_LENS_QUIET'] === '1';
  pending = withoutAddedProcessHandlers(() => choose(backend, quiet)).then((info) => {
    current = info;
    if (!quiet) {
      const n = info.threads === true ? ` x${info.threadCount}` : '';
      const mm = info.nativeMatmul === undefined ? '' : `, matmul ${describeNativeMatmul(info.nativeMatmul)}`;
      const extra = info.name === 'wasm' ? ` (simd=${info.simd}, threads=${info.threads}${n}${mm})` : '';
      process.stderr.write(`tfjs-lens: backend ${info.name}${extra} via ${info.package}\n`);
    }
    return info;
  });
  try {
    return await pending;
  } finally {
    pending = undefined;
  }
}

/** The backend chosen by {@link initBackend}, or undefined before it ran. @category Backend */
export function backendInfo(): BackendInfo | undefined {
  return current;
}

export { tf };
