/**
 * SAE training-step benchmark at GPT-2-small scale: d_in 768, d_sae 6144, batch 4096 tokens. One step
 * = hand-written loss + gradients (grads.ts; TopK on its sparse path) + global-norm clipping + Adam
 * update + reading the step statistics back, as in trainSae (the activation store is not timed).
 * Variants: standard (ReLU + L1), topk (k = 32), topk+aux (1/24 of the latents dead → AuxK).
 * Reports the median of N steps after one warm-up step.
 * Run: npx tsx bench/sae.ts [--runs 3] [--arch standard,topk,topk+aux] [--batch 4096] [--json]
 */
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../src/backend.js';
import { saeConfig, type SaeArchitecture } from '../src/sae/config.js';
import { initSae } from '../src/sae/init.js';
import { createAdam } from '../src/train/optimizer.js';
import { median, parseArgs, saeStep } from './common.js';

const args = parseArgs(process.argv.slice(2));
const opt = args.opt;
const json = args.flag('json');
const RUNS = Number(opt('runs', '3'));
const BATCH = Number(opt('batch', '4096'));
const D_IN = Number(opt('d-in', '768'));
const D_SAE = Number(opt('d-sae', '6144'));
// 'topk+aux': TopK with 1/24 of the latents marked dead, so the AuxK term is computed too.
const VARIANTS = opt('arch', 'standard,topk,topk+aux').split(',');
const REFERENCE = {
  note: 'Reference measured earlier on this machine (bench/compare.ts measures PyTorch live when it is installed)',
  pytorch_openblas_s_per_step: { threads_1: 2.0, threads_2: 1.1 },
};

async function main(): Promise<void> {
  const backend = await initBackend(undefined, { quiet: true });
  const rows: Record<string, number | string>[] = [];
  const x = tf.randomNormal([BATCH, D_IN], 0, 1, 'float32', 0) as tf.Tensor2D;
  const dead = tf.tensor1d(Float32Array.from({ length: D_SAE }, (_, i) => (i % 24 === 0 ? 1 : 0)));
  const nDead = Math.ceil(D_SAE / 24);
  for (const variant of VARIANTS) {
    const arch = variant.split('+')[0] as SaeArchitecture;
    const withAux = variant.endsWith('+aux');
    const sae = initSae(saeConfig({ architecture: arch, dIn: D_IN, dSae: D_SAE, k: 32 }), { seed: 0 });
    const adam = createAdam(3e-4);
    const step = (): number => saeStep(sae, x, adam, withAux ? { dead, nDead } : {});
    const first = step(); // warm-up (kernel setup, Adam slots)
    const times: number[] = [];
    for (let r = 0; r < RUNS; r++) {
      times.push(step());
      process.stderr.write(`bench sae: ${variant} step ${r + 1}/${RUNS} ${(times.at(-1)! / 1000).toFixed(2)} s\n`);
    }
    const ms = median(times);
    const standardShape = BATCH === 4096 && D_IN === 768 && D_SAE === 6144;
    rows.push({
      variant, batch: BATCH, d_in: D_IN, d_sae: D_SAE, k: arch === 'topk' ? 32 : '-', dead_latents: withAux ? nDead : 0,
      ms_per_step: +ms.toFixed(0), warmup_ms: +first.toFixed(0), tokens_per_s: +(BATCH / (ms / 1000)).toFixed(0),
      vs_pytorch_1_thread: standardShape ? +(ms / 1000 / REFERENCE.pytorch_openblas_s_per_step.threads_1).toFixed(2) : '-',
    });
    adam.dispose();
    sae.dispose();
  }
  tf.dispose([x, dead]);
  const result = { bench: 'sae', backend: backend.name, simd: backend.simd ?? null, threads: backend.threads ?? null, runs: RUNS, rows, reference: REFERENCE };
  if (json) process.stdout.write(`${JSON.stringify(result)}\n`);
  else {
    console.log(`backend ${backend.name} (simd=${backend.simd}, threads=${backend.threads}), median of ${RUNS} steps`);
    console.table(rows);
    console.log(`${REFERENCE.note}: PyTorch + OpenBLAS ${REFERENCE.pytorch_openblas_s_per_step.threads_1} s/step on 1 thread, ${REFERENCE.pytorch_openblas_s_per_step.threads_2} s on 2.`);
  }
}

void main();
