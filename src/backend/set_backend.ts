/** Switching tfjs to a registered backend, with a typed error (shared by the Node and browser backends). */
import * as tf from '@tensorflow/tfjs-core';
import { BackendError } from '../errors.js';

/**
 * `tf.setBackend(name)` and wait until it is ready.
 * @param name Registered backend name.
 * @param fn Calling function, for the message.
 * @throws {@link "tfjs-lens"!BackendError} when the backend fails to initialise.
 */
export async function setBackendOrThrow(name: string, fn: string): Promise<void> {
  let ok = false;
  try {
    ok = await tf.setBackend(name);
    await tf.ready();
  } catch (err) {
    throw new BackendError(`${fn}: backend '${name}' failed to initialise: ${String(err)}`);
  }
  if (!ok || tf.getBackend() !== name) throw new BackendError(`${fn}: backend '${name}' failed to initialise`);
}
