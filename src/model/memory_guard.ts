/**
 * Memory guard for the wasm backend: its heap is capped at 4 GB, and when it fills XNNPACK only
 * prints a warning, skips the matmul and the run returns garbage. We estimate a run's peak before
 * starting and refuse with a typed error instead of returning wrong numbers.
 */
import * as tf from '@tensorflow/tfjs-core';
import { MemoryLimitError } from '../errors.js';

/** Usable wasm heap (4 GiB minus headroom for the allocator and fragmentation). */
export const WASM_HEAP_LIMIT_BYTES = 3.6 * 1024 ** 3;

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

/** The architecture facts a decoder's parameter count depends on (a ModelConfig fits). */
interface ParamCountConfig {
  readonly nLayers: number;
  readonly dModel: number;
  readonly nHeads: number;
  readonly nKeyValueHeads?: number;
  readonly dHead: number;
  readonly dMlp: number;
  readonly dVocab: number;
  readonly nCtx: number;
  readonly attnOnly: boolean;
  readonly normalizationType: string;
  readonly positionalEmbeddingType?: string;
  readonly gatedMlp?: boolean;
}

/**
 * Float32 values a decoder holds once loaded: W_E and W_U (separate tensors even when the checkpoint
 * ties them), b_U, W_pos for learned positions, per layer the q/k/v/o projections and biases (k, v
 * with n_kv_heads heads), norms (a bias for LayerNorm), the MLP (W_gate too when gated).
 * @param cfg The config.
 * @returns The number of parameters we hold (equals the elements of `paramTensors(params)` before processing).
 * @throws nothing
 * @example decoderParamCount(model.cfg)
 * @category Model
 */
export function decoderParamCount(cfg: ParamCountConfig): number {
  const { dModel: d, nHeads: h, dHead: e, dMlp: m, dVocab: v } = cfg;
  const kv = (cfg.nKeyValueHeads ?? h) * e;
  const norm = cfg.normalizationType === 'LN' ? 2 * d : cfg.normalizationType === 'RMS' ? d : 0;
  const attn = d * h * e + h * e + 2 * (d * kv + kv) + h * e * d + d;
  const mlp = cfg.attnOnly ? 0 : (cfg.gatedMlp === true ? 2 : 1) * d * m + m + m * d + d;
  const perLayer = attn + mlp + norm * (cfg.attnOnly ? 1 : 2);
  const pos = cfg.positionalEmbeddingType === 'rotary' ? 0 : cfg.nCtx * d;
  return 2 * v * d + v + pos + cfg.nLayers * perLayer + norm;
}

/**
 * Estimated peak wasm-heap bytes of loading a decoder, an upper bound of what the wasm backend
 * reaches (measured against loads of every decoder family in tests/integration/load_size_check.test.ts):
 * - the float32 parameters;
 * - while the weight maps build them, one more copy of the largest matrix (an nn.Linear weight
 *   or an untied lm_head is built [out, in], then transposed; GPT-2's fused c_attn is split);
 * - with weight processing, the larger of that and two copies of one block's matrices
 *   (`processWeights` replaces one block at a time, where fold_ln holds the scaled and the centred
 *   readers at once, then W_U, W_E and W_pos one step at a time, one copy each);
 * - a few vectors of the largest width (folded biases, means).
 * @param cfg The config.
 * @param processing Whether any weight processing runs.
 * @returns Bytes.
 * @throws nothing
 * @example decoderLoadBytes(cfg, true) / 1024 ** 3 // GB needed by fromPretrained
 * @category Model
 */
export function decoderLoadBytes(cfg: ParamCountConfig, processing: boolean): number {
  const float32Bytes = 4;
  const { dModel: d, dVocab: v, dMlp: m } = cfg;
  const params = float32Bytes * decoderParamCount(cfg);
  const largestMatrix = float32Bytes * Math.max(d * v, d * m, 3 * d * cfg.nHeads * cfg.dHead); // [d_model, d_vocab] or a block's
  const vectors = float32Bytes * 8 * Math.max(v, m, d);
  if (!processing) return params + largestMatrix + vectors;
  const block = float32Bytes * (decoderParamCount({ ...cfg, nLayers: 1 }) - decoderParamCount({ ...cfg, nLayers: 0 }));
  return params + Math.max(largestMatrix, 2 * block) + vectors;
}

/**
 * Refuse, before any weight is read or downloaded, a decoder whose parameters would overflow the
 * wasm heap (no-op on other backends).
 * @param cfg The config read from config.json.
 * @param processing Whether weight processing will run (fromPretrained) or not (fromPretrainedNoProcessing).
 * @param name The model name or path, for the message.
 * @throws {@link "tfjs-lens"!MemoryLimitError} naming the parameter count, the bytes needed and the limit.
 * @example checkLoadFits(decoderConfigFromHf(hfConfig), true, 'meta-llama/Llama-3.2-1B') // on wasm: MemoryLimitError (about 6.6 GB > 3.6 GB usable)
 * @category Model
 */
export function checkLoadFits(cfg: ParamCountConfig, processing: boolean, name: string): void {
  if (tf.getBackend() !== 'wasm') return;
  const need = decoderLoadBytes(cfg, processing);
  const inUse = tf.memory().numBytes;
  if (need + inUse > WASM_HEAP_LIMIT_BYTES) {
    const gb = (x: number): string => (x / 1024 ** 3).toFixed(2);
    const count = decoderParamCount(cfg);
    const noProc = processing && decoderLoadBytes(cfg, false) + inUse <= WASM_HEAP_LIMIT_BYTES ? ' (fromPretrainedNoProcessing would fit: it skips the processing copies)' : '';
    throw new MemoryLimitError(
      `${name}: ${(count / 1e6).toFixed(0)}M float32 parameters need about ${gb(need)} GB to load${processing ? ' with weight processing' : ''}, ` +
        `but the wasm heap holds 4 GB (${gb(WASM_HEAP_LIMIT_BYTES)} usable, ${gb(inUse)} GB in use)${noProc}; ` +
        `use a smaller model, or the tfjs-node backend (@tensorflow/tfjs-node installed, TFJS_LENS_BACKEND=tensorflow), which has no such limit`,
    );
  }
}
