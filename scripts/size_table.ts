/**
 * Which real checkpoints load in the 4 GB wasm heap: for public config.json values of common
 * models, the float32 parameters we hold (W_U separate even when tied), the estimated load peak with
 * and without TransformerLens weight processing, and whether each fits the usable wasm heap (the
 * same estimate `HookedTransformer.fromPretrained` / `fromPretrainedNoProcessing` check from
 * config.json before downloading). Runs need room for activations on top (checked per run).
 * Run: npx tsx scripts/size_table.ts [--json]
 */
import { parseArgs } from 'node:util';
import { decoderConfigFromHf, type HfDecoderConfig } from '../src/model/hf_config.js';
import { decoderLoadBytes, decoderParamCount, WASM_HEAP_LIMIT_BYTES } from '../src/model/memory_guard.js';

const gpt2 = (n_layer: number, n_embd: number, n_head: number): HfDecoderConfig => ({ model_type: 'gpt2', n_layer, n_embd, n_head, vocab_size: 50257, n_positions: 1024 });
const neox = (num_hidden_layers: number, hidden_size: number, num_attention_heads: number): HfDecoderConfig => ({
  model_type: 'gpt_neox', num_hidden_layers, hidden_size, num_attention_heads, intermediate_size: 4 * hidden_size, vocab_size: 50304,
  max_position_embeddings: 2048, rotary_pct: 0.25, use_parallel_residual: true,
});
const llama = (o: { t: string; L: number; d: number; h: number; kv: number; m: number; v: number; ctx: number }): HfDecoderConfig => ({
  model_type: o.t, num_hidden_layers: o.L, hidden_size: o.d, num_attention_heads: o.h, num_key_value_heads: o.kv, intermediate_size: o.m,
  vocab_size: o.v, max_position_embeddings: o.ctx,
});

/** Public config.json values (hub ids). */
const MODELS: readonly [string, HfDecoderConfig][] = [
  ['gpt2', gpt2(12, 768, 12)],
  ['gpt2-medium', gpt2(24, 1024, 16)],
  ['gpt2-large', gpt2(36, 1280, 20)],
  ['gpt2-xl', gpt2(48, 1600, 25)],
  ['EleutherAI/pythia-70m', neox(6, 512, 8)],
  ['EleutherAI/pythia-160m', neox(12, 768, 12)],
  ['EleutherAI/pythia-410m', neox(24, 1024, 16)],
  ['EleutherAI/pythia-1b', neox(16, 2048, 8)],
  ['Qwen/Qwen2.5-0.5B', llama({ t: 'qwen2', L: 24, d: 896, h: 14, kv: 2, m: 4864, v: 151936, ctx: 32768 })],
  ['Qwen/Qwen2.5-1.5B', llama({ t: 'qwen2', L: 28, d: 1536, h: 12, kv: 2, m: 8960, v: 151936, ctx: 131072 })],
  ['TinyLlama/TinyLlama-1.1B-Chat-v1.0', llama({ t: 'llama', L: 22, d: 2048, h: 32, kv: 4, m: 5632, v: 32000, ctx: 2048 })],
  ['meta-llama/Llama-3.2-1B', llama({ t: 'llama', L: 16, d: 2048, h: 32, kv: 8, m: 8192, v: 128256, ctx: 131072 })],
  ['mistralai/Mistral-7B-v0.1', llama({ t: 'mistral', L: 32, d: 4096, h: 32, kv: 8, m: 14336, v: 32000, ctx: 32768 })],
];

const { values } = parseArgs({ options: { json: { type: 'boolean', default: false } } });
const gb = (b: number): number => +(b / 1024 ** 3).toFixed(2);
const rows = MODELS.map(([id, hf]) => {
  const cfg = decoderConfigFromHf(hf);
  const raw = decoderLoadBytes(cfg, false);
  const processed = decoderLoadBytes(cfg, true);
  const params = decoderParamCount(cfg);
  return {
    model: id, paramsHeldM: Math.round(params / 1e6), float32GB: gb(4 * params), loadPeakNoProcessingGB: gb(raw), loadPeakProcessingGB: gb(processed),
    fromPretrainedFits: processed <= WASM_HEAP_LIMIT_BYTES, fromPretrainedNoProcessingFits: raw <= WASM_HEAP_LIMIT_BYTES,
  };
});
if (values.json) {
  process.stdout.write(`${JSON.stringify({ script: 'size_table', wasmUsableGB: gb(WASM_HEAP_LIMIT_BYTES), rows })}\n`);
} else {
  const yes = (b: boolean): string => (b ? 'yes' : 'no');
  console.log(`Usable wasm heap: ${gb(WASM_HEAP_LIMIT_BYTES)} GB of 4 GB (GB = 2^30 bytes).\n`);
  console.log('| model | parameters held (M) | float32 (GB) | load peak, no processing (GB) | load peak, processing (GB) | `fromPretrained` on wasm | `fromPretrainedNoProcessing` on wasm |');
  console.log('|---|--:|--:|--:|--:|---|---|');
  for (const r of rows) {
    console.log(`| ${r.model} | ${r.paramsHeldM} | ${r.float32GB} | ${r.loadPeakNoProcessingGB} | ${r.loadPeakProcessingGB} | ${yes(r.fromPretrainedFits)} | ${yes(r.fromPretrainedNoProcessingFits)} |`);
  }
}
