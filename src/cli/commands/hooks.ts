/** `tfjs-lens hooks`: the hook name → shape table of a model (all flags shown). */
import { decoderHookSpecs } from '../../hooks/decoder_hooks.js';
import { readJsonFile } from '../../io/checkpoint.js';
import { resolveModelDir } from '../../io/hub.js';
import { resolveAlias } from '../../model/aliases.js';
import { hookDims } from '../../hooks/hook_spec.js';
import { decoderConfigFromHf, type HfDecoderConfig } from '../../model/hf_config.js';
import { defaultDemoModel } from './paths.js';
import { join } from 'node:path';

/** Print the hook table; returns the exit code. */
export async function runHooks(o: { json: boolean; model?: string | undefined }): Promise<number> {
  const path = o.model ?? defaultDemoModel();
  const { dir } = await resolveModelDir(resolveAlias(path), { quiet: o.json });
  const cfg = decoderConfigFromHf(await readJsonFile<HfDecoderConfig>(join(dir, 'config.json'), 'model config'));
  const dims = hookDims(cfg);
  const rows = decoderHookSpecs(cfg).map((s) => ({
    name: s.name,
    shape: s.shape.map((d) => (typeof d === 'string' && d in dims ? dims[d] : d)),
    flag: s.flag ?? null,
  }));
  if (o.json) process.stdout.write(`${JSON.stringify({ command: 'hooks', model: path, count: rows.length, hooks: rows })}\n`);
  else console.table(rows.map((r) => ({ ...r, shape: `[${r.shape.join(', ')}]` })));
  return 0;
}
