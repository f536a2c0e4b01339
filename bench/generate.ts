/**
 * Generation cost with and without the key/value cache, on a Llama-architecture model with random
 * weights (8 layers, d_model 512, 8 query / 2 key-value heads, SwiGLU d_mlp 1408, rotary, vocab
 * 32000). For each context length L: the cost of one decoding step (one new token after L tokens;
 * median over `--new` steps) with the cache (reads L cached keys/values: nearly flat in L) and
 * without it (reruns all L + 1 positions: grows with L), the prompt pass, and end-to-end tokens/s
 * of `generate` with `--new` greedy tokens.
 * Run: npx tsx bench/generate.ts [--runs 3] [--new 16] [--lengths 16,64,128,256,512] [--json]
 */
import { initBackend } from '../src/backend/backend.js';
import { validateConfig } from '../src/model/config.js';
import { KvCache } from '../src/model/forward.js';
import { HookedTransformer } from '../src/model/hooked_transformer.js';
import { randomDecoderParams } from '../src/model/random_init.js';
import { parseArgs, syntheticTokens, timeMedian } from './common.js';

const args = parseArgs(process.argv.slice(2));
const json = args.flag('json');
const RUNS = Number(args.opt('runs', '3'));
const NEW = Number(args.opt('new', '16'));
const LENGTHS = args.opt('lengths', '16,64,128,256,512').split(',').map(Number);

/** Milliseconds of a synchronous call. */
function ms(fn: () => void): number {
  const t0 = performance.now();
  fn();
  return performance.now() - t0;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

async function main(): Promise<void> {
  const backend = await initBackend(undefined, { quiet: true });
  const cfg = validateConfig({
    modelType: 'llama', nLayers: 8, dModel: 512, nHeads: 8, nKeyValueHeads: 2, dHead: 64, dMlp: 1408, dVocab: 32000,
    nCtx: 2048, actFn: 'silu', eps: 1e-5, normalizationType: 'RMS', attnOnly: false, bosTokenId: 1, eosTokenId: 2,
    positionalEmbeddingType: 'rotary', rotaryDim: 64, rotaryBase: 10000, gatedMlp: true,
  });
  const model = new HookedTransformer(cfg, randomDecoderParams(cfg, { seed: 0 }));
  const rows: Record<string, number>[] = [];
  for (const len of LENGTHS) {
    const prompt = syntheticTokens(1, len, cfg.dVocab);
    const gen = (useKvCache: boolean) => (): void => {
      model.generate(prompt, { maxNewTokens: NEW, temperature: 0, stopAtEos: false, useKvCache });
    };
    // One decoding step after `len` tokens, with the cache (after an untimed prompt pass) and without.
    const kv = new KvCache(cfg.nLayers);
    const prefill = ms(() => model.logitsWithKvCache(prompt, undefined, kv).dispose());
    const stepKv: number[] = [];
    const stepFull: number[] = [];
    for (let i = 0; i < NEW; i++) {
      const tok = [[(i * 31 + 7) % cfg.dVocab]];
      const ctx = kv.length;
      stepKv.push(ms(() => model.logitsWithKvCache(tok, undefined, kv).dispose()));
      const full = [[...(prompt[0] ?? []).slice(0, len), ...Array.from({ length: ctx + 1 - len }, (_, j) => (j * 31 + 7) % cfg.dVocab)]];
      if (i < Math.max(2, Math.min(NEW, RUNS + 1))) stepFull.push(ms(() => model.logits(full).dispose()));
    }
    kv.dispose();
    const withCache = timeMedian(gen(true), RUNS);
    const without = timeMedian(gen(false), RUNS);
    const row = {
      context_len: len,
      step_ms_kv_cache: +median(stepKv.slice(1)).toFixed(1),
      step_ms_no_cache: +median(stepFull).toFixed(1),
      prompt_pass_ms: +prefill.toFixed(1),
      generate_tokens_per_s_kv_cache: +(NEW / withCache).toFixed(1),
      generate_tokens_per_s_no_cache: +(NEW / without).toFixed(1),
    };
    rows.push(row);
    process.stderr.write(`bench: context ${len}: one step ${row.step_ms_kv_cache} ms with the cache, ${row.step_ms_no_cache} ms without\n`);
  }
  model.dispose();
  const result = { bench: 'generate', backend: backend.name, simd: backend.simd ?? null, threads: backend.threads ?? null, runs: RUNS, newTokens: NEW, model: 'llama-shaped 8L d512 GQA 8/2 (random)', rows };
  if (json) process.stdout.write(`${JSON.stringify(result)}\n`);
  else {
    console.log(`backend ${backend.name} (simd=${backend.simd}, threads=${backend.threads}); step = one new token after context_len tokens; generate = ${NEW} tokens incl. the prompt pass, median of ${RUNS} runs`);
    console.table(rows);
  }
}

void main();
