/**
 * Lazy backend start-up for the public entry points that create tensors (`loadSae`,
 * `loadBetaVae`, …), so that calling one before {@link initBackend} works instead of failing
 * with tfjs's raw "No backend found in registry". `ensureBackend` is async and idempotent; the
 * synchronous `assertBackendReady` is for constructors (`new BetaVae`), which cannot await the
 * wasm start-up and throw a BackendError naming the fix instead. `backend.ts` is imported
 * dynamically: importing `tfjs-lens/sae` or `/probe` must not register backends as a side effect
 * (that would change which backend tfjs picks for a caller who set up their own).
 */
import * as tf from '@tensorflow/tfjs-core';
import { BackendError } from '../errors.js';

/** The two engine fields that say whether a backend is usable (not in tfjs's public types). */
interface EngineState {
  readonly backendInstance?: unknown;
  readonly pendingBackendInit?: unknown;
}

/**
 * Whether a tfjs backend is set and initialised (by {@link initBackend}, or by the caller through
 * `tf.setBackend`), so tensors can be created now. Starts nothing.
 * @returns True when tensors can be created synchronously.
 * @throws Never.
 * @example if (!backendReady()) await initBackend();
 */
export function backendReady(): boolean {
  const e = tf.engine() as unknown as EngineState;
  return e.backendInstance != null && e.pendingBackendInit == null;
}

/**
 * Make sure a backend is ready: nothing when one is, waits for a `tf.setBackend` still in flight,
 * else runs {@link initBackend} with its defaults (`TFJS_LENS_BACKEND`, else the best installed).
 * @param fn Caller name, for the error message.
 * @returns Once a backend is ready.
 * @throws {@link "tfjs-lens"!BackendError} when no backend can be initialised.
 * @example await ensureBackend('loadSae');
 */
export async function ensureBackend(fn: string): Promise<void> {
  if (backendReady()) return;
  if ((tf.engine() as unknown as EngineState).pendingBackendInit != null) {
    try {
      await tf.ready();
    } catch (err) {
      throw new BackendError(`${fn}: the tfjs backend being set failed to initialise — ${String(err)}`);
    }
    if (backendReady()) return;
  }
  const { initBackend } = await import('./backend.js');
  await initBackend();
}

/**
 * Synchronous check for constructors that create tensors.
 * @param fn Caller name, for the error message.
 * @throws {@link "tfjs-lens"!BackendError} when no backend is ready, naming `initBackend()` as the fix.
 * @example assertBackendReady('BetaVae');
 */
export function assertBackendReady(fn: string): void {
  if (backendReady()) return;
  throw new BackendError(
    `${fn}: no tfjs backend is initialised — expected one before creating tensors ` +
      "[call `await initBackend()` (from 'tfjs-lens') first; the async loaders such as loadBetaVae and loadSae do it for you]",
  );
}
