/**
 * SAE files: folders written byte-for-byte as SAELens v6.18 writes them (cfg.json from its field
 * list, sae_weights.safetensors assembled by hand as the Rust writer lays it out) load and give the
 * hand-computed encode/decode; save → load round-trips exactly for all architectures; error paths.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/backend/backend.js';
import { ConfigError, NotFoundError, WeightLoadError } from '../../../src/errors.js';
import { parseSafetensors } from '../../../src/io/safetensors.js';
import { saeConfig } from '../../../src/sae/config.js';
import { initSae } from '../../../src/sae/init.js';
import { loadSae, readSaeSparsity, saveSae } from '../../../src/sae/io.js';
import { saeConfigFromCfgJson } from '../../../src/sae/sae_lens_config.js';
import { expectNoLeak } from '../../helpers/memory.js';

const tmp = mkdtempSync(join(tmpdir(), 'sae-io-'));

beforeAll(async () => {
  await initBackend(undefined, { quiet: true });
});

/** safetensors bytes as the Rust writer lays them out: tensors sorted (same dtype → by name), header space-padded to 8. */
function handSafetensors(tensors: Record<string, { shape: number[]; data: number[] }>): Uint8Array {
  const names = Object.keys(tensors).sort();
  let offset = 0;
  const header: string[] = [];
  for (const n of names) {
    const t = tensors[n]!;
    header.push(`"${n}":{"dtype":"F32","shape":[${t.shape.join(',')}],"data_offsets":[${offset},${offset + 4 * t.data.length}]}`);
    offset += 4 * t.data.length;
  }
  let h = `{${header.join(',')}}`;
  while (h.length % 8 !== 0) h += ' ';
  const out = new Uint8Array(8 + h.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(h.length), true);
  out.set(new TextEncoder().encode(h), 8);
  let pos = 8 + h.length;
  for (const n of names) for (const v of tensors[n]!.data) {
    view.setFloat32(pos, v, true);
    pos += 4;
  }
  return out;
}

/** cfg.json text as `json.dump(sae.cfg.get_inference_sae_cfg_dict())` writes it after an LLM-runner training. */
function saeLensCfgText(arch: string, extra: string): string {
  const metadata = '{"sae_lens_version": "6.18.0", "sae_lens_training_version": "6.18.0", "model_name": "gelu-2l", "hook_name": "blocks.0.hook_mlp_out", ' +
    '"hook_head_index": null, "context_size": 128, "prepend_bos": true, "seqpos_slice": [null], "model_from_pretrained_kwargs": {}, ' +
    '"dataset_path": "NeelNanda/c4-tokenized-2b", "model_class_name": "HookedTransformer", "exclude_special_tokens": false, ' +
    '"sequence_separator_token": "bos", "disable_concat_sequences": false}';
  return `{"reshape_activations": "none", "d_sae": 3, "dtype": "float32", "apply_b_dec_to_input": true, "device": "cpu", ${extra}` +
    `"d_in": 2, "normalize_activations": "none", "architecture": "${arch}", "metadata": ${metadata}}`;
}

// d_in = 2, d_sae = 3; known weights.
const W_ENC = [1, 0, -1, 0, 1, 1]; // [[1, 0, -1], [0, 1, 1]]
const B_DEC = [0.1, -0.2];
const X = [[1.1, 0.8], [0.1, -0.2]]; // x − b_dec = [1, 1] and [0, 0]

async function writeSaeLensFolder(name: string, arch: string, cfgExtra: string, tensors: Record<string, { shape: number[]; data: number[] }>): Promise<string> {
  const dir = join(tmp, name);
  await mkdir(dir, { recursive: true });
  writeFileSync(join(dir, 'cfg.json'), saeLensCfgText(arch, cfgExtra));
  writeFileSync(join(dir, 'sae_weights.safetensors'), handSafetensors(tensors));
  return dir;
}

function encodeDecode(dir: string): Promise<{ acts: number[][]; recon: number[][] }> {
  return loadSae(dir).then((sae) => {
    const x = tf.tensor2d(X);
    const acts = sae.encode(x);
    const recon = sae.decode(acts);
    const out = { acts: acts.arraySync(), recon: recon.arraySync() };
    tf.dispose([x, acts, recon]);
    sae.dispose();
    return out;
  });
}

function expectClose(a: number[][], b: number[][]): void {
  expect(a.length).toBe(b.length);
  a.forEach((row, i) => row.forEach((v, j) => expect(v).toBeCloseTo(b[i]![j]!, 5)));
}

describe('folders written as SAELens writes them', () => {
  it('standard: relu((x − b_dec)·W_enc + b_enc)·W_dec + b_dec', async () => {
    const dir = await writeSaeLensFolder('std', 'standard', '', {
      W_enc: { shape: [2, 3], data: W_ENC }, b_enc: { shape: [3], data: [0, -0.5, 0.25] },
      W_dec: { shape: [3, 2], data: [1, 0, 0, 1, 0.5, 0.5] }, b_dec: { shape: [2], data: B_DEC },
    });
    // h = [1, 0.5, 0.25] and [0, −0.5, 0.25]
    const { acts, recon } = await encodeDecode(dir);
    expectClose(acts, [[1, 0.5, 0.25], [0, 0, 0.25]]);
    expectClose(recon, [[1.225, 0.425], [0.225, -0.075]]);
    const sae = await loadSae(dir);
    expect(sae.cfg.metadata.hook_name).toBe('blocks.0.hook_mlp_out');
    expect(sae.cfg.metadata.seqpos_slice).toEqual([null]);
    sae.dispose();
  });

  it('jumprelu: relu(h)·(h > threshold)', async () => {
    const dir = await writeSaeLensFolder('jr', 'jumprelu', '', {
      W_enc: { shape: [2, 3], data: W_ENC }, b_enc: { shape: [3], data: [0, -0.5, 0.25] },
      W_dec: { shape: [3, 2], data: [1, 0, 0, 1, 0.5, 0.5] }, b_dec: { shape: [2], data: B_DEC },
      threshold: { shape: [3], data: [0.6, 0.4, 0.3] },
    });
    const { acts, recon } = await encodeDecode(dir);
    expectClose(acts, [[1, 0.5, 0], [0, 0, 0]]);
    expectClose(recon, [[1.1, 0.3], [0.1, -0.2]]);
  });

  it('topk with rescale_acts_by_decoder_norm: ranks h·‖W_dec[i]‖, decodes acts/‖W_dec[i]‖', async () => {
    const tensors = {
      W_enc: { shape: [2, 3], data: W_ENC }, b_enc: { shape: [3], data: [0, -0.5, 0.5] },
      W_dec: { shape: [3, 2], data: [1, 0, 0, 1, 2, 2] }, b_dec: { shape: [2], data: B_DEC },
    };
    // h = [1, 0.5, 0.5]; ‖W_dec‖ = [1, 1, 2√2] → scaled [1, 0.5, √2]: latent 2 wins.
    const rescaled = await encodeDecode(await writeSaeLensFolder('topk-r', 'topk', '"k": 1, "rescale_acts_by_decoder_norm": true, ', tensors));
    expectClose(rescaled.acts, [[0, 0, Math.SQRT2], [0, 0, 0.5 * 2 * Math.SQRT2]]);
    expectClose(rescaled.recon, [[1.1, 0.8], [1.1, 0.8]]);
    // Without rescaling latent 0 wins on the first input.
    const plain = await encodeDecode(await writeSaeLensFolder('topk-p', 'topk', '"k": 1, "rescale_acts_by_decoder_norm": false, ', tensors));
    expectClose(plain.acts, [[1, 0, 0], [0, 0, 0.5]]);
    expectClose(plain.recon, [[1.1, -0.2], [1.1, 0.8]]);
  });

  it('a pre-6.0 cfg.json is upgraded as SAELens does (hook_point, boolean normalize_activations)', () => {
    const cfg = saeConfigFromCfgJson({
      d_in: 2, d_sae: 3, hook_point: 'blocks.3.hook_resid_pre', hook_point_layer: 3, activation_fn_str: 'relu',
      normalize_activations: false, apply_b_dec_to_input: true, model_name: 'gpt2-small', sae_lens_training_version: '3.13.0',
    });
    expect(cfg.architecture).toBe('standard');
    expect(cfg.normalizeActivations).toBe('none');
    expect(cfg.metadata.hook_name).toBe('blocks.3.hook_resid_pre');
    const topk = saeConfigFromCfgJson({ d_in: 2, d_sae: 3, hook_point: 'h', activation_fn_str: 'topk', activation_fn_kwargs: { k: 2 } });
    expect([topk.architecture, topk.k]).toEqual(['topk', 2]);
  });
});

describe('save → load', () => {
  for (const arch of ['standard', 'topk', 'jumprelu'] as const) {
    it(`${arch}: identical outputs, SAELens tensor names and shapes`, async () => {
      const cfg = saeConfig({ architecture: arch, dIn: 8, dSae: 24, k: 4, metadata: { hook_name: 'blocks.0.hook_resid_post', model_name: 'toy' } });
      const sae = initSae(cfg, { seed: 3, bDec: Float32Array.from({ length: 8 }, (_, i) => i / 10) });
      if (arch === 'jumprelu') tf.tidy(() => sae.params.threshold!.assign(tf.linspace(-0.05, 0.2, 24) as tf.Tensor1D)); // negative thresholds too
      const dir = join(tmp, `rt-${arch}`);
      await saveSae(sae, dir, { logSparsity: new Float32Array(24).fill(-3) });
      const back = await loadSae(dir);
      const x = tf.randomNormal([5, 8], 0, 1, 'float32', 11);
      const [a, b] = [sae.forward(x), back.forward(x)];
      const diff = tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!;
      expect(diff).toBeLessThan(arch === 'topk' ? 1e-5 : 1e-7); // topk folds ‖W_dec‖ into the saved weights
      const [ea, eb] = [sae.encode(x), back.encode(x)];
      expect(tf.max(tf.abs(tf.sub(ea, eb))).dataSync()[0]!).toBeLessThan(1e-5);
      const st = parseSafetensors(new Uint8Array(readFileSync(join(dir, 'sae_weights.safetensors'))));
      const shapes = Object.fromEntries([...st.tensors].map(([n, t]) => [n, t.shape]));
      expect(shapes).toEqual({
        W_dec: [24, 8], W_enc: [8, 24], b_dec: [8], b_enc: [24], ...(arch === 'jumprelu' ? { threshold: [24] } : {}),
      });
      const json = JSON.parse(readFileSync(join(dir, 'cfg.json'), 'utf8'));
      expect(json).toMatchObject({ architecture: arch, d_in: 8, d_sae: 24, apply_b_dec_to_input: true, normalize_activations: 'none', reshape_activations: 'none' });
      expect(json.metadata).toMatchObject({ hook_name: 'blocks.0.hook_resid_post', sae_lens_version: '6.18.0' });
      if (arch === 'topk') expect(json).toMatchObject({ k: 4, rescale_acts_by_decoder_norm: true });
      expect(Array.from((await readSaeSparsity(dir))!)).toEqual(new Array(24).fill(-3));
      tf.dispose([x, a, b, ea, eb]);
      sae.dispose();
      back.dispose();
    });
  }

  it('encode/forward leak nothing beyond their result', async () => {
    const sae = initSae(saeConfig({ architecture: 'topk', dIn: 8, dSae: 16, k: 3 }));
    const x = tf.randomNormal([3, 4, 8]);
    expectNoLeak(() => sae.encode(x), () => 1).dispose();
    expectNoLeak(() => sae.forward(x, { useErrorTerm: true }), () => 1).dispose();
    x.dispose();
    sae.dispose();
  });
});

describe('errors', () => {
  it('missing folder → NotFoundError; missing/unexpected tensors → WeightLoadError; bad architecture → ConfigError', async () => {
    await expect(loadSae(join(tmp, 'nope'))).rejects.toBeInstanceOf(NotFoundError);
    const dir = await writeSaeLensFolder('broken', 'standard', '', {
      W_enc: { shape: [2, 3], data: W_ENC }, W_dec: { shape: [3, 2], data: [1, 0, 0, 1, 0.5, 0.5] },
      b_dec: { shape: [2], data: B_DEC }, extra: { shape: [1], data: [0] },
    });
    await expect(loadSae(dir)).rejects.toThrow(WeightLoadError);
    await expect(loadSae(dir)).rejects.toThrow(/missing \[b_enc\], unexpected \[extra\]/);
    const shape = await writeSaeLensFolder('shape', 'standard', '', {
      W_enc: { shape: [3, 2], data: W_ENC }, b_enc: { shape: [3], data: [0, 0, 0] },
      W_dec: { shape: [3, 2], data: [1, 0, 0, 1, 0.5, 0.5] }, b_dec: { shape: [2], data: B_DEC },
    });
    await expect(loadSae(shape)).rejects.toThrow(/tensor 'W_enc' — expected float \[2, 3\]/);
    expect(() => saeConfigFromCfgJson({ architecture: 'transcoder', d_in: 2, d_sae: 3, metadata: { sae_lens_version: '6.18.0' } })).toThrow(ConfigError);
    expect(() => saeConfigFromCfgJson({ architecture: 'topk', d_in: 2, d_sae: 3, metadata: { sae_lens_version: '6.1.0' } })).toThrow(/k must be a positive integer/);
  });
});
