/** Input normalisation (arrays, foreign tensors, masks) and backend selection errors. */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendInfo, initBackend } from '../../../src/backend/backend.js';
import { BackendError, ShapeError, TokenizerError } from '../../../src/errors.js';
import { HookedTransformer } from '../../../src/model/hooked_transformer.js';
import { fixtureDir } from '../../helpers/fixtures.js';

let model: HookedTransformer;
beforeAll(async () => {
  await initBackend(undefined, { quiet: true });
  model = await HookedTransformer.fromPretrained(fixtureDir('gpt2-tiny'), { quiet: true });
});
afterAll(() => model?.dispose());

describe('inputs', () => {
  it('accepts number[][], number[], Int32Array, our tensors and tensor-likes from another tfjs copy', () => {
    const rows = [[1, 2, 3, 4]];
    const ref = model.logits(rows).dataSync();
    const foreign = { shape: [1, 4], arraySync: () => rows }; // what another tfjs instance's tensor offers
    const t = tf.tensor2d(rows, [1, 4], 'int32');
    for (const input of [[1, 2, 3, 4], new Int32Array([1, 2, 3, 4]), t, foreign]) {
      const out = model.logits(input);
      expect(Array.from(out.dataSync())).toEqual(Array.from(ref));
      out.dispose();
    }
    t.dispose();
  });

  it('rejects bad token ids with ShapeError naming the problem', () => {
    expect(() => model.forward([[1, 2, 1000]])).toThrow(/\[0, 1000\)/);
    expect(() => model.forward([[1, 2.5]])).toThrow(ShapeError);
    expect(() => model.forward([[1, 2], [3]])).toThrow(/ragged/);
    expect(() => model.forward([])).toThrow(ShapeError);
    expect(() => model.forward([Array.from({ length: 129 }, () => 1)])).toThrow(/n_ctx 128/);
    expect(() => model.forward([[1, 2]], { attentionMask: [[1, 1, 1]] })).toThrow(/attentionMask shape/);
  });

  it('string input without a tokenizer is a TokenizerError', () => {
    expect(() => model.forward('hello')).toThrow(TokenizerError);
    expect(() => model.toTokens('hello')).toThrow(/no tokenizer/);
  });

  it('loss with a mask counts only unmasked next-token pairs', () => {
    const rows = [[5, 6, 7, 8, 9]];
    const full = model.loss(rows, { lossPerToken: true });
    const masked = model.loss(rows, { attentionMask: [[1, 1, 1, 0, 0]], lossPerToken: true });
    const mean = model.loss(rows, { attentionMask: [[1, 1, 1, 0, 0]] });
    const f = full.dataSync();
    const m = masked.dataSync();
    expect(m[2]).toBe(0);
    expect(m[3]).toBe(0);
    expect(Math.abs((m[0] as number) - (f[0] as number))).toBeLessThan(1e-5);
    expect(Math.abs((mean.dataSync()[0] as number) - ((m[0] as number) + (m[1] as number)) / 2)).toBeLessThan(1e-5);
    for (const t of [full, masked, mean]) t.dispose();
  });
});

describe('backend', () => {
  it('reports the chosen backend', () => {
    const info = backendInfo();
    expect(info?.name).toBe(tf.getBackend());
    expect(['wasm', 'cpu', 'tensorflow']).toContain(info?.name);
  });

  it('rejects a bad TFJS_LENS_BACKEND and an unavailable native backend with BackendError', async () => {
    const saved = process.env['TFJS_LENS_BACKEND'];
    process.env['TFJS_LENS_BACKEND'] = 'webgpu';
    await expect(initBackend('wasm' === tf.getBackend() ? undefined : undefined, { quiet: true }).then(() => 'cached')).resolves.toBe('cached');
    if (saved === undefined) delete process.env['TFJS_LENS_BACKEND'];
    else process.env['TFJS_LENS_BACKEND'] = saved;
    let nativeInstalled = true;
    try {
      await import('@tensorflow/tfjs-node' as string);
    } catch {
      nativeInstalled = false;
    }
    if (!nativeInstalled) await expect(initBackend('tensorflow', { quiet: true })).rejects.toThrow(BackendError);
    expect(tf.getBackend()).toBe(backendInfo()?.name);
  });
});
