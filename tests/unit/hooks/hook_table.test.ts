/**
 * The published hook table (docs/hooks.md) is generated from the code and matches the hook points a
 * model registers; actName() follows TransformerLens get_act_name.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/backend/backend.js';
import { HookNameError } from '../../../src/errors.js';
import { actName, decoderHookSpecs } from '../../../src/hooks/hook_names.js';
import { HookedTransformer } from '../../../src/model/hooked_transformer.js';
import { renderHookTable } from '../../../scripts/gen_hook_table.js';

beforeAll(async () => {
  await initBackend(undefined, { quiet: true });
});

describe('hook table', () => {
  it('docs/hooks.md is up to date (regenerate with npm run docs:hooks)', () => {
    expect(readFileSync(resolve('docs/hooks.md'), 'utf8')).toBe(renderHookTable());
  });

  it('a model registers exactly the hooks of the table, in order', async () => {
    const m = await HookedTransformer.fromPretrained(resolve('tests/fixtures/gpt2-tiny'), { quiet: true });
    expect([...m.hookDict.keys()]).toEqual(decoderHookSpecs(m.cfg).map((s) => s.name));
    // GPT-2 small: 2 + 12·17 + 2 = 208 default hooks (TL 2.x), 72 more behind flags.
    const small = decoderHookSpecs({ nLayers: 12, attnOnly: false });
    expect(small.filter((s) => s.flag === undefined)).toHaveLength(208);
    expect(small.filter((s) => s.flag !== undefined)).toHaveLength(72);
    m.dispose();
  });

  it('actName follows get_act_name', () => {
    expect(actName('k', 6)).toBe('blocks.6.attn.hook_k');
    expect(actName('pre', 2)).toBe('blocks.2.mlp.hook_pre');
    expect(actName('normalized', 3, 'ln2')).toBe('blocks.3.ln2.hook_normalized');
    expect(actName('scale')).toBe('ln_final.hook_scale');
    expect(actName('embed')).toBe('hook_embed');
    expect(actName('attn', 0)).toBe('blocks.0.attn.hook_pattern');
    expect(actName('k6')).toBe('blocks.6.attn.hook_k');
    expect(actName('resid_post', 11)).toBe('blocks.11.hook_resid_post');
    expect(() => actName('nonsense', 1)).toThrow(HookNameError);
    expect(() => actName('resid_pre')).toThrow(/layer index/);
  });
});
