/**
 * Forward / runWithCache benchmark on a GPT-2-small-shaped model with random weights
 * (12 layers, d_model 768, 12 heads, vocab 50257): seconds per call (median of N) and peak RSS.
 * Run: npx tsx bench/forward.ts [--runs 5] [--json]    (TFJS_LENS_BACKEND picks the backend)
 */
import { initBackend } from '../src/backend/backend.js';
import { HookedTransformer } from '../src/model/hooked_transformer.js';
import { randomDecoderParams } from '../src/model/random_init.js';
import { gpt2Config, parseArgs, syntheticTokens, timeMedian } from './common.js';

const args = parseArgs(process.argv.slice(2));
const json = args.flag('json');
const RUNS = Number(args.opt('runs', '5'));
const shapes: [number, number][] = [[1, 128], [8, 128]];

let peakRss = 0;
const sampler = setInterval(() => { peakRss = Math.max(peakRss, process.memoryUsage().rss); }, 20);
const sampleRss = (): void => { peakRss = Math.max(peakRss, process.memoryUsage().rss); };

const time = (fn: () => void, runs: number): number => timeMedian(fn, runs, sampleRss);

async function main(): Promise<void> {
  const backend = await initBackend(undefined, { quiet: true });
  const cfg = gpt2Config();
  const model = new HookedTransformer(cfg, randomDecoderParams(cfg, { seed: 0 }));
  const rows: Record<string, number | string>[] = [];
  for (const [b, p] of shapes) {
    const tokens = syntheticTokens(b, p, cfg.dVocab);
    const rssBefore = peakRss;
    const fwd = time(() => { const o = model.forward(tokens); o.dataSync(); o.dispose(); }, RUNS);
    const rssFwd = peakRss;
    let cacheMb = 0;
    const cached = time(() => {
      const [o, c] = model.runWithCache(tokens);
      o.dataSync();
      cacheMb = c.numBytes / 1e6;
      sampleRss();
      o.dispose();
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
