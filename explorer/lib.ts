/**
 * The library as the page uses it, bundled with the page by explorer/build.ts through the browser
 * build's plugin (Node-only modules swapped for their `*.browser.ts` twins): the browser entry
 * (src/browser/index.ts: URL loaders, backend, models) plus the analysis, patching, SAE, probe and
 * explanation functions the views call.
 */
import { integratedGradients, tokenizeForExplain } from '../src/anomaly/explain.js';
import { probeTarget } from '../src/anomaly/probe_explain.js';
import { logitLens } from '../src/analysis/lens.js';
import { backendInfo, loadEncoderFromUrl, loadSaeFromUrl, loadTransformerFromUrl, tf } from '../src/browser/index.js';
import { logitDiffMetric } from '../src/patching/metrics.js';
import { getActPatchResidPre } from '../src/patching/presets.js';
import { decodeBetaVae } from '../src/probe/vae_codec.js';
import type { LensApi } from './lens_api.js';

/** Everything the explorer calls. */
export const lens: LensApi = {
  tf,
  backendInfo,
  loadTransformerFromUrl,
  loadEncoderFromUrl,
  loadSaeFromUrl,
  logitLens,
  getActPatchResidPre,
  logitDiffMetric: (a, b) => logitDiffMetric(a, b),
  decodeBetaVae,
  probeTarget,
  tokenizeForExplain,
  integratedGradients,
};
