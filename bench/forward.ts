/**
 * Forward / runWithCache benchmark on a GPT-2-small-shaped model with random weights
 * (12 layers, d_model 768, 12 heads, vocab 50257): seconds per call (median of N) and peak RSS.
 * Run: npx tsx bench/forward.ts [--runs 5] [--json]    (TFJS_LENS_BACKEND picks the backend)
 */
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../src/backend.js';
import { validateConfig, type ModelConfig } from '../src/model/config.js';
import { HookedTransformer } from '../src/model/hooked_transformer.js';
import { randomDecoderParams } from '../src/model/random_init.js';

const args = process.argv.slice(2);
const json = args.includes('--json');
const runsArg = args.indexOf('--runs');
const RUNS = runsArg >= 0 ? Number(args[runsArg + 1]) : 5;
const shapes: [number, number][] = [[1, 128], [8, 128]];

let peakRss = 0;
const sampler = setInterval(() => { peakRss = Math.max(peakRss, process.memoryUsage().rss); }, 20);
const sampleRss = (): void => { peakRss = Math.max(peakRss, process.memoryUsage().rss); };

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

function time(fn: () => void, runs: number): number {
  fn(); // warm-up
  const ts: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    fn();
    ts.push((performance.now() - t0) / 1000);
    sampleRss();
  }
  return median(ts);
}

async function main(): Promise<void> {
  const backend = await initBackend(undefined, { quiet: true });
  const cfg: ModelConfig = validateConfig({
    modelType: 'gpt2', nLayers: 12, dModel: 768, nHeads: 12, dHead: 64, dMlp: 3072, dVocab: 50257, nCtx: 1024,
    actFn: 'gelu_new', eps: 1e-5, normalizationType: 'LN', attnOnly: false, bosTokenId: 50256, eosTokenId: 50256,
  });
  const model = new HookedTransformer(cfg, randomDecoderParams(cfg, { seed: 0 }));
  const rows: Record<string, number | string>[] = [];
  for (const [b, p] of shapes) {
    const tokens = Array.from({ length: b }, (_, i) => Array.from({ length: p }, (_, j) => (i * 7919 + j * 104729) % 50257));
    const rssBefore = peakRss;
    const fwd = time(() => { const o = model.forward(tokens) as tf.Tensor; o.dataSync(); o.dispose(); }, RUNS);
    const rssFwd = peakRss;
    let cacheMb = 0;
    const cached = time(() => {
      const [o, c] = model.runWithCache(tokens);
      (o as tf.Tensor).dataSync();
      cacheMb = c.numBytes / 1e6;
      sampleRss();
      (o as tf.Tensor).dispose();
      c.dispose();
    }, RUNS);
    rows.push({
      shape: `${b}x${p}`, forward_s: +fwd.toFixed(3), run_with_cache_s: +cached.toFixed(3),
      cache_mb: +cacheMb.toFixed(0), peak_rss_mb: +(peakRss / 1e6).toFixed(0),
      rss_forward_mb: +(Math.max(rssFwd, rssBefore) / 1e6).toFixed(0),
    });
    process.stderr.write(`bench: ${b}x${p} forward ${fwd.toFixed(3)} s, runWithCache ${cached.toFixed(3)} s\n`);
  }
  model.dispose();
  clearInterval(sampler);
  const result = { bench: 'forward', backend: backend.name, simd: backend.simd ?? null, threads: backend.threads ?? null, runs: RUNS, model: 'gpt2-small-shaped (random)', rows };
  if (json) process.stdout.write(`${JSON.stringify(result)}\n`);
  else {
    console.log(`backend ${backend.name} (simd=${backend.simd}, threads=${backend.threads}), median of ${RUNS} runs`);
    console.table(rows);
  }
}

void main();
