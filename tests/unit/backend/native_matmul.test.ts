/**
 * The native-matmul prototype (src/backend/native_matmul.ts, native/blas_matmul.c). Built here when the
 * machine can (a C compiler, Node's headers, the OpenBLAS runtime); skipped otherwise, since the
 * prototype is not part of the package. Checks: matmul results equal the wasm kernels', the GPT-2
 * fixture still matches its TransformerLens reference, and a bad addon path is a typed error.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/backend/backend.js';
import { BackendError } from '../../../src/errors.js';
import { HookedTransformer } from '../../../src/model/hooked_transformer.js';
import { installNativeMatmul, nativeMatmulInfo } from '../../../src/backend/native_matmul.js';
import { expectMatchesRef, loadReference, namesUnder, refRows } from '../../helpers/reference.js';
import { fixtureDir } from '../../helpers/fixtures.js';

function build(): string | undefined {
  const out = join(mkdtempSync(join(tmpdir(), 'tfjs-lens-blas-')), 'tfjs_lens_blas.node');
  try {
    execFileSync('bash', ['scripts/build_native_matmul.sh', out], { stdio: 'pipe' });
    return out;
  } catch {
    return undefined;
  }
}

const addonPath = build();

beforeAll(async () => {
  await initBackend('wasm', { quiet: true });
});

describe('native matmul prototype', () => {
  it('rejects a path that is not the addon with a BackendError', () => {
    expect(() => installNativeMatmul('/nonexistent/tfjs_lens_blas.node')).toThrow(BackendError);
    expect(nativeMatmulInfo()?.path).not.toBe('/nonexistent/tfjs_lens_blas.node'); // set by TFJS_LENS_NATIVE_MATMUL, if at all
  });

  it.skipIf(addonPath === undefined)('gives the wasm kernels\' results (2-D, transposed, batched, broadcast, bias, activation fallback)', () => {
    const r = (shape: number[], seed: number): tf.Tensor => tf.randomNormal(shape, 0, 1, 'float32', seed);
    const cases: (() => tf.Tensor)[] = [
      () => tf.matMul(r([37, 64], 1), r([64, 29], 2)),
      () => tf.matMul(r([64, 37], 3), r([64, 29], 4), true, false),
      () => tf.matMul(r([37, 64], 5), r([29, 64], 6), false, true),
      () => tf.matMul(r([3, 2, 16, 8], 7), r([3, 2, 8, 5], 8)),
      () => tf.matMul(r([4, 16, 8], 9), r([1, 8, 5], 10)),
      () => tf.fused.matMul({ a: r([37, 64], 11) as tf.Tensor2D, b: r([64, 29], 12) as tf.Tensor2D, bias: r([29], 13) }),
      () => tf.fused.matMul({ a: r([37, 64], 14) as tf.Tensor2D, b: r([64, 29], 15) as tf.Tensor2D, bias: r([29], 16), activation: 'relu' }),
    ];
    const preinstalled = nativeMatmulInfo() !== undefined; // TFJS_LENS_NATIVE_MATMUL: both sides native
    const want = cases.map((f) => tf.tidy(f));
    const info = preinstalled ? (nativeMatmulInfo() as NonNullable<ReturnType<typeof nativeMatmulInfo>>) : installNativeMatmul(addonPath as string);
    expect(info.blas).toMatch(/OpenBLAS/);
    const before = tf.memory().numTensors;
    const got = cases.map((f) => tf.tidy(f));
    expect(tf.memory().numTensors).toBe(before + got.length);
    got.forEach((g, i) => {
      expect(g.shape, `case ${i}`).toEqual(want[i]?.shape);
      const err = tf.tidy(() => tf.max(tf.abs(tf.sub(g, want[i] as tf.Tensor))).dataSync()[0] as number);
      expect(err, `case ${i}`).toBeLessThan(1e-4);
    });
    tf.dispose([...want, ...got]);
  });

  it.skipIf(addonPath === undefined)('with it installed, the GPT-2 fixture still matches TransformerLens (every hook, logits)', async () => {
    if (nativeMatmulInfo() === undefined) installNativeMatmul(addonPath as string);
    const dir = fixtureDir('gpt2-tiny');
    const ref = loadReference(dir);
    const model = await HookedTransformer.fromPretrainedNoProcessing(dir, { quiet: true });
    const [logits, cache] = model.runWithCache(refRows(ref, 'inputs/input_ids'));
    for (const n of namesUnder(ref, 'tl_raw/')) expectMatchesRef(cache.get(n), ref, `tl_raw/${n}`);
    expectMatchesRef(logits as tf.Tensor, ref, 'tl_raw_out/logits');
    (logits as tf.Tensor).dispose();
    cache.dispose();
    model.dispose();
  });
});
