/**
 * The library functions the explorer calls (explorer/lib.ts fills it from src/), typed from the
 * library's own declarations. Optional members are checked before use, so a piece that is missing
 * shows a message on the page instead of breaking it.
 */
import type * as tfc from '@tensorflow/tfjs-core';
import type { LogitLensOptions, LogitLensResult } from '../src/analysis/lens.js';
import type { ActivationCache } from '../src/hooks/activation_cache.js';
import type { HookedEncoder } from '../src/model/encoder/hooked_encoder.js';
import type { LoadProgress } from '../src/io/url_fetch.js';
import type { HookedTransformer } from '../src/model/hooked_transformer.js';
import type { PresetPatchFn } from '../src/patching/presets.js';
import type { SparseAutoencoder } from '../src/sae/sae.js';

export type { LoadProgress };

/** Options every URL loader accepts (a superset of what each needs). */
export interface UrlLoadOptions {
  readonly onProgress?: (p: LoadProgress) => void;
}

/** The bundle's exports the explorer calls; optional ones degrade to a message when missing. */
export interface LensApi {
  readonly tf: typeof tfc;
  readonly loadTransformerFromUrl: (baseUrl: string, opts?: UrlLoadOptions) => Promise<HookedTransformer>;
  readonly loadEncoderFromUrl?: (baseUrl: string, opts?: UrlLoadOptions) => Promise<HookedEncoder>;
  readonly loadSaeFromUrl?: (baseUrl: string, opts?: UrlLoadOptions) => Promise<SparseAutoencoder>;
  readonly logitLens?: (cache: ActivationCache, model: HookedTransformer, opts?: LogitLensOptions) => LogitLensResult;
  readonly getActPatchResidPre?: PresetPatchFn;
  readonly logitDiffMetric?: (correct: number, incorrect: number) => (logits: tfc.Tensor3D) => tfc.Scalar;
  readonly backendInfo?: () => unknown;
  readonly [other: string]: unknown;
}

export type { ActivationCache, HookedEncoder, HookedTransformer, SparseAutoencoder };
