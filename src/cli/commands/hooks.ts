/** `tfjs-lens hooks`: the hook name → shape table of a model (all flags shown). */
import { decoderHookSpecs } from '../../hooks/decoder_hooks.js';
import { readJsonFile } from '../../io/checkpoint.js';
import { resolveModelDir } from '../../io/hub.js';
import { gpt2ConfigFromHf, type HfGpt2Config } from '../../model/hf_config.js';
import { defaultDemoModel } from './paths.js';
import { join } from 'node:path';

/** Print the hook table; returns the exit code. */
export async function runHooks(o: { json: boolean; model?: string | undefined }): Promise<number> {
  const path = o.model ?? defaultDemoModel();
  const { dir } = await resolveModelDir(path, { quiet: o.json });
  const cfg = gpt2ConfigFromHf(await readJsonFile<HfGpt2Config>(join(dir, 'config.json'), 'model config'));
  const dims: Record<string, number> = { d_model: cfg.dModel, n_heads: cfg.nHeads, d_head: cfg.dHead, d_mlp: cfg.dMlp, d_vocab: cfg.dVocab };
  const rows = decoderHookSpecs(cfg).map((s) => ({
    name: s.name,
    shape: s.shape.map((d) => (typeof d === 'string' && d in dims ? dims[d] : d)),
    flag: s.flag ?? null,
  }));
  if (o.json) process.stdout.write(`${JSON.stringify({ command: 'hooks', model: path, count: rows.length, hooks: rows })}\n`);
  else console.table(rows.map((r) => ({ ...r, shape: `[${r.shape.join(', ')}]` })));
  return 0;
}
