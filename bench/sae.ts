/**
 * SAE training-step benchmark at GPT-2-small scale: d_in 768, d_sae 6144, batch 4096 tokens. One step
 * = hand-written loss + gradients (grads.ts; TopK on its sparse path) + global-norm clipping + Adam
 * update + reading the step statistics back, as in trainSae (the activation store is not timed).
 * Variants: standard (ReLU + L1), topk (k = 32), topk+aux (1/24 of the latents dead → AuxK).
 * Reports the median of N steps after one warm-up step. When `/usr/bin/python3` has torch, the same
 * steps in plain PyTorch (bench/torch_ref.py, same thread count, OpenBLAS settings as bench/compare.ts)
 * run in the same invocation and the ratio is printed; otherwise the earlier reference is stated.
 * Run: npx tsx bench/sae.ts [--runs 3] [--arch standard,topk,topk+aux] [--batch 4096] [--no-torch] [--json]
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../src/backend/backend.js';
import { saeConfig, type SaeArchitecture } from '../src/sae/config.js';
import { initSae } from '../src/sae/init.js';
import { createAdam } from '../src/ops/optimizer.js';
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
  note: 'Reference measured earlier on this machine (used when PyTorch is not installed)',
  pytorch_openblas_s_per_step: { threads_1: 2.0, threads_2: 1.1 },
};
const THREADS = Number(process.env['TFJS_LENS_WASM_THREADS'] ?? '1') || 1;

/** PyTorch s/step by architecture from bench/torch_ref.py, or undefined when torch is absent. */
function torchLive(): { perStep: Record<string, number>; blas: string; torch: string } | undefined {
  const py = '/usr/bin/python3';
  if (args.flag('no-torch') || spawnSync(py, ['-c', 'import torch'], { stdio: 'ignore' }).status !== 0) return undefined;
  if (BATCH !== 4096 || D_IN !== 768 || D_SAE !== 6144) return undefined; // torch_ref.py runs the standard shape
  const env = { ...process.env, OMP_WAIT_POLICY: 'PASSIVE', OMP_NUM_THREADS: String(THREADS), OPENBLAS_NUM_THREADS: String(THREADS) };
  const script = fileURLToPath(new URL('./torch_ref.py', import.meta.url));
  const r = spawnSync(py, [script, '--threads', String(THREADS), '--runs', String(RUNS), '--only', 'sae', '--json'], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (r.status !== 0) throw new Error(`bench sae: torch_ref.py exited with ${r.status}`);
  const out = JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}') as { workloads: Record<string, number>; blas: { name: string }; torch: string };
  return { perStep: out.workloads, blas: out.blas.name, torch: out.torch };
}

async function main(): Promise<void> {
  const backend = await initBackend(undefined, { quiet: true });
  const rows: Record<string, number | string>[] = [];
  const x = tf.randomNormal([BATCH, D_IN], 0, 1, 'float32', 1) as tf.Tensor2D;
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
    rows.push({
      variant, batch: BATCH, d_in: D_IN, d_sae: D_SAE, k: arch === 'topk' ? 32 : '-', dead_latents: withAux ? nDead : 0,
      ms_per_step: +ms.toFixed(0), warmup_ms: +first.toFixed(0), tokens_per_s: +(BATCH / (ms / 1000)).toFixed(0),
    });
    adam.dispose();
    sae.dispose();
  }
  tf.dispose([x, dead]);
  const live = torchLive();
  for (const row of rows) {
    const arch = String(row['variant']).split('+')[0] as string;
    const torchS = live?.perStep[`sae_${arch}`];
    const refS = THREADS >= 2 ? REFERENCE.pytorch_openblas_s_per_step.threads_2 : REFERENCE.pytorch_openblas_s_per_step.threads_1;
    if (torchS !== undefined && !String(row['variant']).includes('+')) {
      row['pytorch_ms_per_step'] = +(torchS * 1000).toFixed(0);
      row['ours_over_pytorch'] = +(Number(row['ms_per_step']) / 1000 / torchS).toFixed(2);
    } else if (live === undefined && arch === 'standard' && BATCH === 4096 && D_IN === 768 && D_SAE === 6144) {
      row['ours_over_pytorch_reference'] = +(Number(row['ms_per_step']) / 1000 / refS).toFixed(2);
    }
  }
  const pytorch = live === undefined ? { live: false, ...REFERENCE } : { live: true, torch: live.torch, blas: live.blas, threads: THREADS };
  const result = { bench: 'sae', backend: backend.name, simd: backend.simd ?? null, threads: backend.threads ?? null, threadCount: backend.threadCount ?? null, runs: RUNS, rows, pytorch };
  if (json) process.stdout.write(`${JSON.stringify(result)}\n`);
  else {
    console.log(`backend ${backend.name} (simd=${backend.simd}, threads=${backend.threads}), median of ${RUNS} steps`);
    console.table(rows);
    if (live !== undefined) console.log(`PyTorch ${live.torch} (${live.blas}) measured in this run on ${THREADS} thread(s).`);
    else console.log(`${REFERENCE.note}: PyTorch + OpenBLAS ${REFERENCE.pytorch_openblas_s_per_step.threads_1} s/step on 1 thread, ${REFERENCE.pytorch_openblas_s_per_step.threads_2} s on 2.`);
  }
}

void main();
