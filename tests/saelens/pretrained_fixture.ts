/**
 * Fixtures of tests/saelens/test_pretrained.test.ts: tiny SAEs in SAELens's layouts (pre-6.0
 * gpt2-small-res-jb cfg.json, pythia-style folder, 6.x TopK, Gemma Scope params.npz written as numpy
 * writes .npy), a test registry, and a fake hub on 127.0.0.1 serving them under the shipped
 * registry's repo ids; the fetch refuses anything but 127.0.0.1.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { strToU8, zipSync } from 'fflate';
import { afterAll, beforeAll, beforeEach, vi } from 'vitest';
import { initBackend } from '../../src/backend/backend.js';
import { serializeSafetensors, type TensorToWrite } from '../../src/io/safetensors.js';
import type { FromPretrainedOptions } from '../../src/sae/pretrained.js';
import { startTestHub, type TestHub } from '../unit/io/hub_server.js';
import { makeTempDir, removeDir } from '../unit/io/st_helpers.js';

/** Deterministic values in (-1, 1). */
export function rand(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  });
}

export function st(tensors: Record<string, { shape: number[]; data: Float32Array }>): Buffer {
  const t: Record<string, TensorToWrite> = {};
  for (const [k, v] of Object.entries(tensors)) t[k] = { dtype: 'F32', shape: v.shape, data: v.data };
  return Buffer.from(serializeSafetensors(t));
}

/** A `.npy` v1.0 file as numpy writes it: magic, header padded with spaces to 64 bytes and '\n'. */
export function npy(descr: '<f4' | '<f8', shape: number[], values: ArrayLike<number>, fortran = false): Uint8Array {
  let header = `{'descr': '${descr}', 'fortran_order': ${fortran ? 'True' : 'False'}, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const width = descr === '<f4' ? 4 : 8;
  const out = new Uint8Array(10 + header.length + values.length * width);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(strToU8(header), 10);
  const dv = new DataView(out.buffer, 10 + header.length);
  for (let i = 0; i < values.length; i++) {
    if (width === 4) dv.setFloat32(i * 4, values[i] as number, true);
    else dv.setFloat64(i * 8, values[i] as number, true);
  }
  return out;
}

/** [r, c] row-major → column-major. */
export function colMajor(a: Float32Array, r: number, c: number): Float32Array {
  const out = new Float32Array(a.length);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[j * r + i] = a[i * c + j] as number;
  return out;
}

export const D_IN = 8;
export const D_SAE = 16;
export const GPT2 = { W_enc: rand(D_IN * D_SAE, 1), b_enc: rand(D_SAE, 2), W_dec: rand(D_SAE * D_IN, 3), b_dec: rand(D_IN, 4) };
export const GPT2_SPARSITY = rand(D_SAE, 5).map((x) => -1 - Math.abs(x) * 3);
/** As jbloom/GPT2-Small-SAEs-Reformatted's cfg.json (mats_sae_training era, pre-6.0), shrunk. */
export const GPT2_CFG = {
  model_name: 'gpt2-small', hook_point: 'blocks.0.hook_resid_pre', hook_point_layer: 0, hook_point_head_index: null,
  dataset_path: 'Skylion007/openwebtext', is_dataset_tokenized: false, context_size: 128, use_cached_activations: false,
  d_in: D_IN, n_batches_in_buffer: 128, total_training_tokens: 300000000, store_batch_size: 32, device: 'mps', seed: 42,
  dtype: 'torch.float32', b_dec_init_method: 'geometric_median', expansion_factor: 2, from_pretrained_path: null,
  l1_coefficient: 8e-5, lr: 0.0004, lr_scheduler_name: null, lr_warm_up_steps: 5000, train_batch_size: 4096,
  use_ghost_grads: false, feature_sampling_window: 1000, dead_feature_window: 5000, dead_feature_threshold: 1e-8,
  log_to_wandb: true, d_sae: D_SAE, run_name: '16-L1-8e-05-LR-0.0004-Tokens-3.000e+08',
};
export const P_IN = 6;
export const P_SAE = 12;
export const PYTHIA = { W_enc: rand(P_IN * P_SAE, 11), b_enc: rand(P_SAE, 12), W_dec: rand(P_SAE * P_IN, 13), b_dec: rand(P_IN, 14) };
/** As ctigges/pythia-70m-deduped__res-sm_processed's cfg.json (SAELens 3.x era), shrunk. */
export const PYTHIA_CFG = {
  architecture: 'standard', d_in: P_IN, d_sae: P_SAE, dtype: 'float32', device: 'cuda', model_name: 'pythia-70m-deduped',
  hook_name: 'blocks.0.hook_resid_post', hook_layer: 0, hook_head_index: null, activation_fn_str: 'relu',
  activation_fn_kwargs: {}, apply_b_dec_to_input: true, finetuning_scaling_factor: false, sae_lens_training_version: null,
  prepend_bos: true, dataset_path: 'EleutherAI/the_pile_deduplicated', context_size: 128, normalize_activations: false,
};
export const OLD_TOPK_CFG = {
  architecture: 'standard', d_in: 768, d_sae: 32768, dtype: 'torch.float32', device: 'cpu', model_name: 'gpt2-small',
  hook_name: 'blocks.11.hook_resid_post', hook_layer: 11, hook_head_index: null, activation_fn_str: 'topk',
  activation_fn_kwargs: { k: 32 }, apply_b_dec_to_input: true, finetuning_scaling_factor: false, context_size: 64,
  dataset_path: 'Skylion007/openwebtext', prepend_bos: false, normalize_activations: 'layer_norm', sae_lens_training_version: null,
};
export const TOPK = { W_enc: rand(D_IN * D_SAE, 21), b_enc: rand(D_SAE, 22), W_dec: rand(D_SAE * D_IN, 23), b_dec: rand(D_IN, 24) };
export const TOPK_CFG = {
  architecture: 'topk', d_in: D_IN, d_sae: D_SAE, k: 3, rescale_acts_by_decoder_norm: false, dtype: 'float32', device: 'cpu',
  apply_b_dec_to_input: true, normalize_activations: 'expected_average_only_in', reshape_activations: 'none',
  metadata: { sae_lens_version: '6.18.0', model_name: 'tiny', hook_name: 'blocks.1.hook_resid_pre' },
};
export const G_IN = 6;
export const G_SAE = 10;
export const GEMMA = { W_enc: rand(G_IN * G_SAE, 31), W_dec: rand(G_SAE * G_IN, 32), b_enc: rand(G_SAE, 33), b_dec: rand(G_IN, 34), threshold: rand(G_SAE, 35).map(Math.abs) };

export function gemmaNpz(level: 0 | 6): Buffer {
  return Buffer.from(zipSync({
    'W_enc.npy': npy('<f4', [G_IN, G_SAE], GEMMA.W_enc),
    'W_dec.npy': npy('<f4', [G_SAE, G_IN], colMajor(GEMMA.W_dec, G_SAE, G_IN), true),
    'b_enc.npy': npy('<f4', [G_SAE], GEMMA.b_enc),
    'b_dec.npy': npy('<f8', [G_IN], GEMMA.b_dec),
    'threshold.npy': npy('<f4', [G_SAE], GEMMA.threshold),
  }, { level }));
}

export const TEST_REGISTRY = `
test-topk-norm:
  conversion_func: null
  model: tiny
  repo_id: test-org/topk-saes
  saes:
  - id: blocks.1.hook_resid_pre
    neuronpedia: tiny/1-topk
    norm_scaling_factor: 0.5
    path: topk/l1
gemma-scope-test-res:
  conversion_func: gemma_2
  config_overrides:
    d_in: ${G_IN}
    d_sae: ${G_SAE}
  model: gemma-2-2b
  repo_id: test-org/gemma-scope-2b-pt-res
  saes:
  - id: layer_3/width_4k/average_l0_5
    path: layer_3/width_4k/average_l0_5
  - id: embedding/width_4k/average_l0_2
    path: embedding/width_4k/average_l0_2
test-llama-scope:
  conversion_func: llama_scope
  model: llama
  repo_id: test-org/llama
  saes:
  - id: l0
    path: l0
test-bad-weights:
  conversion_func: null
  model: tiny
  repo_id: test-org/bad-weights
  saes:
  - id: scaled
    path: scaled
  - id: misshaped
    path: misshaped
`;


/** Handles filled in by {@link usePretrainedHub}'s hooks. */
export interface PretrainedHubEnv {
  readonly hub: TestHub;
  /** Path of the test registry file. */
  readonly registryPath: string;
  /** URL of the test registry, served on 127.0.0.1. */
  readonly registryUrl: string;
  /** Calls made through {@link PretrainedHubEnv.fetchLocal}. */
  readonly fetchCalls: number;
  /** A fetch that refuses any non-loopback URL. */
  readonly fetchLocal: typeof globalThis.fetch;
  /** A new empty hub cache dir. */
  freshCache(): Promise<string>;
  /** Options for a test: loopback endpoint, guarded fetch, quiet, online. */
  opts(cacheDir: string, extra?: FromPretrainedOptions): FromPretrainedOptions;
}

/** Register beforeAll/afterAll/beforeEach hooks (backend, hub, registry server) and return the handles. */
export function usePretrainedHub(): PretrainedHubEnv {
  let hub: TestHub;
  let root = '';
  let registryPath = '';
  let registryServer: ReturnType<typeof createServer>;
  let registryUrl = '';
  let fetchCalls = 0;
  let n = 0;

  const fetchLocal: typeof globalThis.fetch = (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    if (!url.startsWith('http://127.0.0.1:')) throw new TypeError(`test refused a non-local fetch: ${url}`);
    fetchCalls++;
    return globalThis.fetch(input, init);
  };

  async function freshCache(): Promise<string> {
    const d = join(root, `cache-${n++}`);
    await mkdir(d);
    return d;
  }

  function opts(cacheDir: string, extra: FromPretrainedOptions = {}): FromPretrainedOptions {
    return { cacheDir, endpoint: hub.url, quiet: true, offline: false, fetch: fetchLocal, ...extra };
  }

  beforeAll(async () => {
    await initBackend(undefined, { quiet: true });
    root = await makeTempDir('pretrained');
    registryPath = join(root, 'registry.yaml');
    await writeFile(registryPath, TEST_REGISTRY);
    hub = await startTestHub({
      'jbloom/GPT2-Small-SAEs-Reformatted': {
        'blocks.0.hook_resid_pre/cfg.json': Buffer.from(JSON.stringify(GPT2_CFG)),
        'blocks.0.hook_resid_pre/sae_weights.safetensors': st({ W_enc: { shape: [D_IN, D_SAE], data: GPT2.W_enc }, b_enc: { shape: [D_SAE], data: GPT2.b_enc }, W_dec: { shape: [D_SAE, D_IN], data: GPT2.W_dec }, b_dec: { shape: [D_IN], data: GPT2.b_dec } }),
        'blocks.0.hook_resid_pre/sparsity.safetensors': st({ sparsity: { shape: [D_SAE], data: GPT2_SPARSITY } }),
      },
      'ctigges/pythia-70m-deduped__res-sm_processed': {
        '0-res-sm/cfg.json': Buffer.from(JSON.stringify(PYTHIA_CFG)),
        '0-res-sm/sae_weights.safetensors': st({ W_enc: { shape: [P_IN, P_SAE], data: PYTHIA.W_enc }, b_enc: { shape: [P_SAE], data: PYTHIA.b_enc }, W_dec: { shape: [P_SAE, P_IN], data: PYTHIA.W_dec }, b_dec: { shape: [P_IN], data: PYTHIA.b_dec }, scaling_factor: { shape: [P_SAE], data: new Float32Array(P_SAE).fill(1) } }),
      },
      'jbloom/GPT2-Small-OAI-v5-32k-resid-post-SAEs': { 'v5_32k_layer_11.pt/cfg.json': Buffer.from(JSON.stringify(OLD_TOPK_CFG)), 'blocks.11.hook_resid_post/cfg.json': Buffer.from(JSON.stringify(OLD_TOPK_CFG)) },
      'test-org/topk-saes': {
        'topk/l1/cfg.json': Buffer.from(JSON.stringify(TOPK_CFG)),
        'topk/l1/sae_weights.safetensors': st({ W_enc: { shape: [D_IN, D_SAE], data: TOPK.W_enc }, b_enc: { shape: [D_SAE], data: TOPK.b_enc }, W_dec: { shape: [D_SAE, D_IN], data: TOPK.W_dec }, b_dec: { shape: [D_IN], data: TOPK.b_dec } }),
      },
      'test-org/gemma-scope-2b-pt-res': {
        'layer_3/width_4k/average_l0_5/params.npz': gemmaNpz(0),
        'embedding/width_4k/average_l0_2/params.npz': gemmaNpz(6),
      },
      'test-org/bad-weights': {
        'scaled/cfg.json': Buffer.from(JSON.stringify(PYTHIA_CFG)),
        'scaled/sae_weights.safetensors': st({ W_enc: { shape: [P_IN, P_SAE], data: PYTHIA.W_enc }, b_enc: { shape: [P_SAE], data: PYTHIA.b_enc }, W_dec: { shape: [P_SAE, P_IN], data: PYTHIA.W_dec }, b_dec: { shape: [P_IN], data: PYTHIA.b_dec }, scaling_factor: { shape: [P_SAE], data: new Float32Array(P_SAE).fill(2) } }),
        'misshaped/cfg.json': Buffer.from(JSON.stringify(PYTHIA_CFG)),
        'misshaped/sae_weights.safetensors': st({ W_enc: { shape: [P_SAE, P_IN], data: PYTHIA.W_enc }, b_enc: { shape: [P_SAE], data: PYTHIA.b_enc }, W_dec: { shape: [P_SAE, P_IN], data: PYTHIA.W_dec }, b_dec: { shape: [P_IN], data: PYTHIA.b_dec } }),
      },
    });
    registryServer = createServer((req, res) => {
      if (req.url === '/registry.yaml') res.writeHead(200, { 'content-type': 'text/yaml' }).end(TEST_REGISTRY);
      else res.writeHead(404).end();
    });
    await new Promise<void>((r) => registryServer.listen(0, '127.0.0.1', r));
    registryUrl = `http://127.0.0.1:${(registryServer.address() as AddressInfo).port}/registry.yaml`;
  });

  afterAll(async () => {
    await hub.close();
    registryServer.closeAllConnections();
    await new Promise<void>((r) => registryServer.close(() => r()));
    await removeDir(root);
  });

  beforeEach(() => {
    for (const k of ['HF_TOKEN', 'HF_HUB_OFFLINE', 'HF_ENDPOINT', 'HF_HUB_CACHE', 'HF_HOME']) vi.stubEnv(k, '');
    hub.requests.length = 0;
  });

  return {
    get hub() { return hub; },
    get registryPath() { return registryPath; },
    get registryUrl() { return registryUrl; },
    get fetchCalls() { return fetchCalls; },
    fetchLocal,
    freshCache,
    opts,
  };
}
