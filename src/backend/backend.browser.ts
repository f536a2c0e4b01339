/**
 * Browser twin of backend.ts (chosen by scripts/build_browser.ts; src/browser imports it directly).
 * Backends: wasm by default (SIMD; the threaded-SIMD build when the page is cross-origin isolated),
 * WebGL, WebGPU (when its package has registered it), cpu. The wasm files are fetched from the
 * bundle's own folder (`import.meta.url`) unless `wasmPaths` says otherwise. Also registers the
 * autodiff gradients (tfjs-core's `register_all_gradients`).
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
// Tensor methods (x.slice, x.reshape, …) as in Node, where the union package registers them.
import '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-webgl';
import { getThreadsCount, setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { BackendError } from '../errors.js';
import { installWasmKernels } from './wasm_kernels.js';
import { setBackendOrThrow } from './set_backend.js';
import type { BackendInfo, BackendName } from './backend.js';

export type { BackendInfo, BackendName } from './backend.js';

/** Backends the browser build can run on. @category Backend */
export type BrowserBackendName = 'wasm' | 'webgl' | 'webgpu' | 'cpu';

/** Options of {@link initBrowserBackend}. @category Backend */
export interface BrowserBackendOptions {
  /** Folder (URL ending in `/`) holding `tfjs-backend-wasm*.wasm`; default: the bundle's own folder. */
  readonly wasmPaths?: string;
  /** wasm threads when the page is cross-origin isolated (default: `navigator.hardwareConcurrency`, at most 8). */
  readonly threads?: number;
}

const BROWSER_BACKENDS: readonly BrowserBackendName[] = ['wasm', 'webgl', 'webgpu', 'cpu'];

let current: BackendInfo | undefined;
let wasmPathsSet = false;

/** The folder of the bundle (where build_browser.ts copies the wasm files). */
function bundleDir(): string {
  return new URL('./', import.meta.url).href;
}

function crossOriginIsolatedPage(): boolean {
  return (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
}

async function startWasm(opts: BrowserBackendOptions): Promise<BackendInfo> {
  if (!wasmPathsSet) {
    setWasmPaths(opts.wasmPaths ?? bundleDir());
    wasmPathsSet = true;
  }
  const isolated = crossOriginIsolatedPage();
  if (isolated) {
    const hw = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency ?? 4;
    setThreadsCount(Math.max(1, Math.floor(opts.threads ?? Math.min(8, hw))));
  }
  await setBackendOrThrow('wasm', 'initBrowserBackend');
  installWasmKernels();
  const threadCount = isolated ? getThreadsCount() : 1;
  return {
    name: 'wasm',
    source: 'explicit',
    package: '@tensorflow/tfjs-backend-wasm',
    simd: tf.env().getBool('WASM_HAS_SIMD_SUPPORT'),
    threads: threadCount > 1,
    threadCount,
  };
}

/**
 * Start a tfjs backend in the browser (once; a later call with another name switches).
 * @param name 'wasm' (default), 'webgl', 'webgpu' (needs `@tensorflow/tfjs-backend-webgpu` imported by
 *   the page first) or 'cpu'.
 * @param opts Where the wasm files are; wasm threads.
 * @returns The backend in use.
 * @throws {@link "tfjs-lens"!BackendError} for an unknown name or a backend that cannot start here.
 * @example await initBrowserBackend('webgl');
 * @category Backend
 */
export async function initBrowserBackend(name: BrowserBackendName = 'wasm', opts: BrowserBackendOptions = {}): Promise<BackendInfo> {
  if (current !== undefined && current.name === name) return current;
  if (!BROWSER_BACKENDS.includes(name)) {
    throw new BackendError(`initBrowserBackend: unknown backend '${String(name)}' — expected one of ${BROWSER_BACKENDS.join(', ')}`);
  }
  if (name === 'wasm') {
    current = await startWasm(opts);
    return current;
  }
  if (tf.findBackendFactory(name) === null) {
    throw new BackendError(
      `initBrowserBackend: backend '${name}' is not registered — import '@tensorflow/tfjs-backend-${name}' in the page first, or use 'wasm'`,
    );
  }
  await setBackendOrThrow(name, 'initBrowserBackend');
  current = { name, source: 'explicit', package: name === 'cpu' ? '@tensorflow/tfjs-backend-cpu' : `@tensorflow/tfjs-backend-${name}` };
  return current;
}

/**
 * The Node entry's `initBackend`, in the browser: 'wasm' and 'cpu' as asked, the default is the
 * backend already started (else wasm); 'tensorflow' (tfjs-node) does not exist here.
 * @throws {@link "tfjs-lens"!BackendError} for 'tensorflow'.
 */
export async function initBackend(backend?: BackendName, _opts: { quiet?: boolean } = {}): Promise<BackendInfo> {
  if (backend === undefined) return current ?? initBrowserBackend('wasm');
  if (backend === 'tensorflow') {
    throw new BackendError("initBackend: backend 'tensorflow' (tfjs-node) is not available in the browser — use 'wasm', 'webgl', 'webgpu' or 'cpu'");
  }
  return initBrowserBackend(backend);
}

/** The backend started, or undefined before. */
export function backendInfo(): BackendInfo | undefined {
  return current;
}

export { tf };
