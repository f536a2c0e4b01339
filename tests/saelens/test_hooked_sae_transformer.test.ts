/**
 * Port of SAELens tests/analysis/test_hooked_sae_transformer.py (jbloomAus/SAELens 91ca16cc, v6.18.0) on
 * the gpt2-tiny fixture: our splicing is functional (`runWithSaes`, `runWithCacheWithSaes` with the SAEs
 * as arguments) rather than a stateful HookedSAETransformer, so 29 test functions, 15 ported:
 * test_model_with_no_saes_matches_original_model, test_model_with_saes_does_not_match_original_model,
 * test_run_with_saes, test_run_with_cache_with_saes, test_run_with_hooks_with_saes,
 * test_model_with_use_error_term_saes_matches_original_model, test_run_with_saes_with_use_error_term,
 * test_run_with_cache_with_saes_with_use_error_term, test_use_error_term_restoration_after_exception,
 * test_run_with_saes_use_error_term_true, test_run_with_cache_with_saes_use_error_term_true,
 * test_run_with_saes_use_error_term_false, test_run_with_cache_with_saes_use_error_term_false,
 * test_saes_context_manager_run_with_cache (as runWithCacheWithSaes: the context manager has no
 * counterpart), test_HookedSAETransformer_works_with_hook_z_saes (a random hook_z SAE instead of the
 * pretrained gpt2-small-hook-z-kk).
 * Not ported (no stateful SAE attachment in this library, so nothing to add/reset/restore):
 * test_add_sae, test_add_sae_overwrites_prev_sae, test_reset_sae_removes_sae_by_default,
 * test_reset_sae_replaces_sae, test_reset_saes_removes_all_saes_by_default, test_reset_saes_replaces_saes,
 * test_saes_context_manager_removes_saes_after, test_saes_context_manager_restores_previous_sae_state,
 * test_run_with_cache (add_sae then a plain run_with_cache), test_run_with_hooks (add_sae then
 * run_with_hooks), test_add_sae_with_use_error_term, test_saes_context_manager_with_use_error_term,
 * test_add_sae_with_use_error_term_true, test_add_sae_with_use_error_term_false;
 * test_HookedSAETransformer_adds_hook_in_to_mlp is about the model's `mlp.hook_in`, not SAEs.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/backend.js';
import { HookedTransformer } from '../../src/model/hooked_transformer.js';
import { saeConfig } from '../../src/sae/config.js';
import { initSae } from '../../src/sae/init.js';
import type { SparseAutoencoder } from '../../src/sae/sae.js';
import { runWithCacheWithSaes, runWithSaes, type SaeSplice } from '../../src/sae/splice.js';
import { fixtureDir } from '../helpers/fixtures.js';
import { expectClose, notClose } from './sae_helpers.js';

const SITES = ['blocks.0.attn.hook_z', 'blocks.0.hook_mlp_out', 'blocks.0.mlp.hook_post', 'blocks.0.hook_resid_pre'] as const;
const PROMPT = [[999, 31, 415, 7, 88]];
let model: HookedTransformer;
let original: tf.Tensor;
let saes: SparseAutoencoder[];

/** SAELens `get_hooked_sae` (a standard SAE, d_sae = 2·d_in). */
function hookedSae(actName: string, seed: number): SparseAutoencoder {
  const c = model.cfg;
  const site = actName.split('.').at(-1) as string;
  const dIn = { hook_z: c.dHead * c.nHeads, hook_mlp_out: c.dModel, hook_resid_pre: c.dModel, hook_post: c.dMlp }[site] as number;
  return initSae(saeConfig({
    architecture: 'standard', dIn, dSae: 2 * dIn, reshapeActivations: actName.endsWith('hook_z') ? 'hook_z' : 'none',
    metadata: { hook_name: actName, model_name: 'gpt2-tiny', hook_head_index: null, prepend_bos: true },
  }), { seed });
}

beforeAll(async () => {
  await initBackend(undefined, { quiet: true });
  model = await HookedTransformer.fromPretrained(fixtureDir('gpt2-tiny'), { quiet: true });
  original = model.logits(PROMPT);
  saes = SITES.map((s, i) => hookedSae(s, i + 1));
});
afterAll(() => {
  original.dispose();
  saes.forEach((s) => s.dispose());
  model.dispose();
});

const splices = (): SaeSplice[] => saes.map((sae) => ({ sae }));

describe('HookedSAETransformer (functional)', () => {
  it('test_model_with_no_saes_matches_original_model', () => {
    const logits = runWithSaes(model, PROMPT, []);
    expectClose(logits, original);
    logits.dispose();
  });

  for (const [i, site] of SITES.entries()) {
    it(`test_model_with_saes_does_not_match_original_model[${site}]`, () => {
      const logits = runWithSaes(model, PROMPT, [{ sae: saes[i] as SparseAutoencoder }]);
      expect(notClose(logits, original)).toBe(true);
      expect(model.hasHooks()).toBe(false);
      logits.dispose();
    });
  }

  it('test_run_with_saes', () => {
    const logits = runWithSaes(model, PROMPT, splices());
    expect(notClose(logits, original)).toBe(true);
    expect(model.hasHooks()).toBe(false);
    logits.dispose();
  });

  for (const name of ['test_run_with_cache_with_saes', 'test_saes_context_manager_run_with_cache']) {
    it(name, () => {
      const [logits, cache, acts] = runWithCacheWithSaes(model, PROMPT, splices());
      expect(notClose(logits as tf.Tensor, original)).toBe(true);
      for (const site of SITES) {
        expect(cache.has(`${site}.hook_sae_acts_post`)).toBe(true);
        for (const p of ['hook_sae_input', 'hook_sae_acts_pre', 'hook_sae_recons', 'hook_sae_output']) expect(cache.has(`${site}.${p}`)).toBe(true);
        expect(cache.has(`${site}.hook_sae_error`)).toBe(false);
        // the extra map repeats the latents
        expectClose(acts.get(`${site}.hook_sae_acts_post`) as tf.Tensor, cache.get(`${site}.hook_sae_acts_post`));
      }
      // SAE hook points sit right after their model hook, in forward order
      const keys = cache.keys();
      const at = keys.indexOf('blocks.0.hook_resid_pre');
      expect(keys.slice(at + 1, at + 6)).toEqual(['input', 'acts_pre', 'acts_post', 'recons', 'output'].map((p) => `blocks.0.hook_resid_pre.hook_sae_${p}`));
      expect(model.hasHooks()).toBe(false);
      tf.dispose([logits as tf.Tensor, ...acts.values()]);
      cache.dispose();
    });
  }

  it('test_run_with_hooks_with_saes', () => {
    let count = 0;
    const logits = runWithSaes(model, PROMPT, splices(), { fwdHooks: SITES.map((s) => [`${s}.hook_sae_acts_post`, () => void count++] as const) });
    expect(notClose(logits, original)).toBe(true);
    expect(count).toBe(SITES.length);
    expect(model.hasHooks()).toBe(false);
    logits.dispose();
  });

  for (const [i, site] of SITES.entries()) {
    const sae = (): SparseAutoencoder => saes[i] as SparseAutoencoder;

    it(`test_model_with_use_error_term_saes_matches_original_model[${site}]`, () => {
      const logits = runWithSaes(model, PROMPT, [{ sae: sae(), useErrorTerm: true }]);
      expectClose(logits, original, { atol: 1e-4 });
      logits.dispose();
    });

    it(`test_run_with_saes_with_use_error_term[${site}]`, () => {
      const splice: SaeSplice = { sae: sae() };
      runWithSaes(model, PROMPT, [splice], { useErrorTerm: true }).dispose();
      expect(splice.useErrorTerm).toBeUndefined(); // the caller's splice is untouched
      expect(model.hasHooks()).toBe(false);
    });

    it(`test_run_with_cache_with_saes_with_use_error_term[${site}]`, () => {
      const splice: SaeSplice = { sae: sae() };
      const [out, cache, acts] = runWithCacheWithSaes(model, PROMPT, [splice], { useErrorTerm: true });
      expect(splice.useErrorTerm).toBeUndefined();
      expect(model.hasHooks()).toBe(false);
      expect(cache.has(`${site}.hook_sae_acts_post`)).toBe(true);
      expect(cache.has(`${site}.hook_sae_error`)).toBe(true);
      tf.dispose([out as tf.Tensor, ...acts.values()]);
      cache.dispose();
    });

    it(`test_use_error_term_restoration_after_exception[${site}]`, () => {
      const splice: SaeSplice = { sae: sae(), useErrorTerm: false };
      expect(() => runWithSaes(model, PROMPT, [splice], { useErrorTerm: true, fwdHooks: [['blocks.0.hook_resid_post', () => { throw new Error('Test exception'); }]] })).toThrow('Test exception');
      expect(splice.useErrorTerm).toBe(false);
      expect(model.hasHooks()).toBe(false);
    });

    it(`test_run_with_saes_use_error_term_true[${site}]`, () => {
      const logits = runWithSaes(model, PROMPT, [{ sae: sae() }], { useErrorTerm: true });
      expectClose(logits, original, { atol: 1e-4 });
      logits.dispose();
    });

    it(`test_run_with_cache_with_saes_use_error_term_true[${site}]`, () => {
      const [clean, cleanCache] = model.runWithCache(PROMPT);
      const [out, cache, acts] = runWithCacheWithSaes(model, PROMPT, [{ sae: sae() }], { useErrorTerm: true });
      expectClose(out as tf.Tensor, clean as tf.Tensor, { atol: 1e-4 });
      expect(cache.has(`${site}.hook_sae_acts_post`)).toBe(true);
      expectClose(cleanCache.get(site), cache.get(`${site}.hook_sae_output`), { atol: 1e-5 });
      tf.dispose([clean as tf.Tensor, out as tf.Tensor, ...acts.values()]);
      cleanCache.dispose();
      cache.dispose();
    });

    it(`test_run_with_saes_use_error_term_false[${site}]`, () => {
      const logits = runWithSaes(model, PROMPT, [{ sae: sae(), useErrorTerm: true }], { useErrorTerm: false });
      expect(notClose(logits, original, { atol: 1e-4 })).toBe(true);
      logits.dispose();
    });

    it(`test_run_with_cache_with_saes_use_error_term_false[${site}]`, () => {
      const [clean, cleanCache] = model.runWithCache(PROMPT);
      const [out, cache, acts] = runWithCacheWithSaes(model, PROMPT, [{ sae: sae() }], { useErrorTerm: false });
      expect(notClose(out as tf.Tensor, clean as tf.Tensor, { atol: 1e-4 })).toBe(true);
      expect(cache.has(`${site}.hook_sae_acts_post`)).toBe(true);
      expect(notClose(cleanCache.get(site), cache.get(`${site}.hook_sae_output`), { atol: 1e-5 })).toBe(true);
      tf.dispose([clean as tf.Tensor, out as tf.Tensor, ...acts.values()]);
      cleanCache.dispose();
      cache.dispose();
    });
  }

  it('test_HookedSAETransformer_works_with_hook_z_saes', () => {
    const sae = hookedSae('blocks.1.attn.hook_z', 9);
    const sansSae = model.logits(PROMPT);
    const [logits, cache, acts] = runWithCacheWithSaes(model, PROMPT, [{ sae }], { useErrorTerm: false });
    expect(notClose(logits as tf.Tensor, sansSae, { atol: 1e-4 })).toBe(true);
    const out = cache.get('blocks.1.attn.hook_z.hook_sae_output');
    expect(out.shape).toEqual([1, 5, model.cfg.nHeads, model.cfg.dHead]); // hook_z reshaping
    tf.dispose([sansSae, logits as tf.Tensor, ...acts.values()]);
    cache.dispose();
    sae.dispose();
  });
});
