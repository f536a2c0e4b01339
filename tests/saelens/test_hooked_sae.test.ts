/**
 * Port of SAELens tests/analysis/test_hooked_sae.py (jbloomAus/SAELens 91ca16cc, v6.18.0): 4 test
 * functions, each over the fixture's 4 hook sites (blocks.0.attn.hook_z, blocks.0.hook_mlp_out,
 * blocks.0.mlp.hook_post, blocks.0.hook_resid_pre), on the gpt2-tiny fixture instead of solu-1l.
 * `hooked_sae(x)` is `sae.forward(x)`, `run_with_cache` `sae.runWithCache`, `run_with_hooks(fwd_hooks=…)`
 * `sae.forward(x, { hooks })`.
 * Partly ported: test_error_term's second half (feature gradients through backward hooks on
 * hook_sae_acts_post / hook_sae_output) — our SAE hook points are forward-only (no bwd hooks inside an
 * SAE); the forward half (output equals the input with the error term) is ported.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/backend.js';
import { HookedTransformer } from '../../src/model/hooked_transformer.js';
import { saeConfig } from '../../src/sae/config.js';
import { initSae } from '../../src/sae/init.js';
import { SAE_HOOK_NAMES, type SaeHookName, type SparseAutoencoder } from '../../src/sae/sae.js';
import { fixtureDir } from '../helpers/fixtures.js';
import { expectNoLeak } from '../helpers/memory.js';
import { expectClose } from './sae_helpers.js';

const SITES = ['blocks.0.attn.hook_z', 'blocks.0.hook_mlp_out', 'blocks.0.mlp.hook_post', 'blocks.0.hook_resid_pre'] as const;
const PROMPT = [[999, 31, 415, 7, 88]]; // BOS + 4 tokens ("Hello World!")
let model: HookedTransformer;

beforeAll(async () => {
  await initBackend(undefined, { quiet: true });
  model = await HookedTransformer.fromPretrained(fixtureDir('gpt2-tiny'), { quiet: true });
});
afterAll(() => model.dispose());

/** SAELens `get_hooked_sae`: a standard SAE, d_sae = 2·d_in, apply_b_dec_to_input false. */
function hookedSae(actName: string): SparseAutoencoder {
  const c = model.cfg;
  const site = actName.split('.').at(-1) as string;
  const dIn = { hook_z: c.dHead * c.nHeads, hook_mlp_out: c.dModel, hook_resid_pre: c.dModel, hook_post: c.dMlp }[site] as number;
  return initSae(saeConfig({
    architecture: 'standard', dIn, dSae: 2 * dIn, applyBDecToInput: false,
    reshapeActivations: actName.endsWith('hook_z') ? 'hook_z' : 'none',
    metadata: { hook_name: actName, model_name: 'gpt2-tiny', hook_head_index: null, prepend_bos: true },
  }), { seed: 1 });
}

/** The clean activation at a hook (SAELens `model.run_with_cache(prompt, names_filter=act_name)`). */
function activation(actName: string): tf.Tensor {
  const [out, cache] = model.runWithCache(PROMPT, { namesFilter: [actName] });
  const x = tf.keep(cache.get(actName).clone());
  tf.dispose(out as tf.Tensor);
  cache.dispose();
  return x;
}

describe('HookedSAE', () => {
  for (const site of SITES) {
    it(`test_forward_reconstructs_input[${site}]`, () => {
      const sae = hookedSae(site);
      const x = activation(site);
      const out = expectNoLeak(() => sae.forward(x), () => 1);
      expect(out.shape).toEqual(x.shape);
      tf.dispose([x, out]);
      sae.dispose();
    });

    it(`test_run_with_cache[${site}]`, () => {
      const sae = hookedSae(site);
      const x = activation(site);
      const { output, cache } = sae.runWithCache(x);
      expect(output.shape).toEqual(x.shape);
      for (const n of ['hook_sae_input', 'hook_sae_acts_pre', 'hook_sae_acts_post', 'hook_sae_recons', 'hook_sae_output'] as const) expect(cache.has(n)).toBe(true);
      // shapes as SAELens caches them: hook_z inputs flattened to [..., n_heads·d_head], latents [..., d_sae]
      const lead = site.endsWith('hook_z') ? x.shape.slice(0, -2) : x.shape.slice(0, -1);
      expect(cache.get('hook_sae_input')?.shape).toEqual([...lead, sae.cfg.dIn]);
      expect(cache.get('hook_sae_acts_post')?.shape).toEqual([...lead, sae.cfg.dSae]);
      expect(cache.get('hook_sae_output')?.shape).toEqual(x.shape);
      tf.dispose([x, output, ...cache.values()]);
      sae.dispose();
    });

    it(`test_run_with_hooks[${site}]`, () => {
      const sae = hookedSae(site);
      const x = activation(site);
      let count = 0;
      const names: SaeHookName[] = ['hook_sae_input', 'hook_sae_acts_pre', 'hook_sae_acts_post', 'hook_sae_recons', 'hook_sae_output'];
      const out = sae.forward(x, { hooks: names.map((n) => [n, () => void count++] as const) });
      expect(out.shape).toEqual(x.shape);
      expect(count).toBe(names.length);
      expect(SAE_HOOK_NAMES).toContain('hook_sae_error');
      tf.dispose([x, out]);
      sae.dispose();
    });

    it(`test_error_term[${site}] (forward half)`, () => {
      const sae = hookedSae(site);
      const x = activation(site);
      const out = sae.forward(x, { useErrorTerm: true });
      expect(out.shape).toEqual(x.shape);
      expectClose(out, x, { atol: 1e-6 });
      tf.dispose([x, out]);
      sae.dispose();
    });
  }
});
