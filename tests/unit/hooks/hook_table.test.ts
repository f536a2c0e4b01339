/**
 * The published hook table (docs/hooks.md) is generated from the code; the table has TL's hook
 * counts (that each hook fires as the table says is tests/unit/hooks/hook_contract.test.ts);
 * actName() follows TransformerLens get_act_name.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../src/backend/backend.js';
import { HookNameError } from '../../../src/errors.js';
import { actName } from '../../../src/hooks/act_name.js';
import { decoderHookSpecs } from '../../../src/hooks/decoder_hooks.js';
import { renderHookTable } from '../../../scripts/gen_hook_table.js';

beforeAll(async () => {
  await initBackend(undefined, { quiet: true });
});

describe('hook table', () => {
  it('docs/hooks.md is up to date (regenerate with npm run docs:hooks)', () => {
    expect(readFileSync(resolve('docs/hooks.md'), 'utf8')).toBe(renderHookTable());
  });

  it('GPT-2 small has TL 2.x\'s hook count: 2 + 12·17 + 2 = 208 default hooks, 72 more behind flags', () => {
    const small = decoderHookSpecs({ nLayers: 12, attnOnly: false });
    expect(small.filter((s) => s.flag === undefined)).toHaveLength(208);
    expect(small.filter((s) => s.flag !== undefined)).toHaveLength(72);
    // Attention-only: no resid_mid, ln2, mlp hooks.
    expect(decoderHookSpecs({ nLayers: 1, attnOnly: true }).some((s) => /resid_mid|ln2|mlp/.test(s.name))).toBe(false);
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
