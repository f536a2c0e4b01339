/**
 * Memory guard for the wasm backend: its heap is capped at 4 GB, and when it fills XNNPACK only
 * prints a warning, skips the matmul and the run returns garbage. We estimate a run's peak before
 * starting and refuse with a typed error instead of returning wrong numbers.
 */
import * as tf from '@tensorflow/tfjs-core';
import { MemoryLimitError } from '../errors.js';

/** Usable wasm heap (4 GiB minus headroom for the allocator and fragmentation). */
const WASM_HEAP_LIMIT_BYTES = 3.6 * 1024 ** 3;

/** Sizes that determine a forward pass's memory. */
interface RunSize {
  readonly batch: number;
  readonly pos: number;
  readonly dModel: number;
  readonly dMlp: number;
  readonly nHeads: number;
  readonly dVocab: number;
  /** Bytes of activations the run will keep (cache). */
  readonly cacheBytes: number;
  /** Whether logits are computed. */
  readonly logits: boolean;
}

/** Estimated peak bytes of one forward pass beyond what is already allocated. */
function estimateRunBytes(s: RunSize): number {
  const bp = s.batch * s.pos;
  const perLayer = 4 * bp * (10 * s.dModel + 3 * s.dMlp + 4 * s.nHeads * s.pos);
  const logits = s.logits ? 4 * bp * s.dVocab * 3 : 0;
  return s.cacheBytes + Math.max(perLayer, logits);
}

/**
 * Throw if a run would overflow the wasm heap (no-op on other backends).
 * @throws {@link "tfjs-lens"!MemoryLimitError} naming the sizes and what to reduce.
 */
export function checkRunFits(s: RunSize, fn: string): void {
  if (tf.getBackend() !== 'wasm') return;
  const need = estimateRunBytes(s);
  const inUse = tf.memory().numBytes;
  if (need + inUse > WASM_HEAP_LIMIT_BYTES) {
    const gb = (x: number): string => (x / 1024 ** 3).toFixed(2);
    throw new MemoryLimitError(
      `${fn}: this run needs about ${gb(need)} GB (cached activations ${gb(s.cacheBytes)} GB, batch ${s.batch} × pos ${s.pos}) ` +
        `but the wasm heap holds 4 GB with ${gb(inUse)} GB in use — cache less (namesFilter, stopAtLayer) or use a smaller batch`,
    );
  }
}
