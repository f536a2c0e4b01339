/**
 * What the explorer computes with the library, in the browser, returned as plain arrays (every
 * tensor is disposed here): a decoder or encoder run (tokens, attention patterns, last-position
 * logits, top predictions, logit lens), activation patching of the residual stream, and SAE latents.
 */
import type { ActivationCache, HookedEncoder, HookedTransformer, LensApi, SparseAutoencoder } from './lens_api.js';
import type { LensData, PatchResult, RunResult, SaeResult, TopToken } from './types.js';

export type { PatchResult, RunResult, SaeResult };

type Model = HookedTransformer | HookedEncoder;

function decodeTok(model: Model, id: number): string {
  return model.tokenizer?.decodeToken(id) ?? `#${id}`;
}

function patternsOf(cache: ActivationCache, nLayers: number): number[][][][] {
  return Array.from({ length: nLayers }, (_, l) => (cache.get(`blocks.${l}.attn.hook_pattern`).arraySync() as number[][][][])[0] as number[][][]);
}

/** Top-k of each row of a [pos, vocab] probability tensor. */
function topRows(api: LensApi, model: Model, probs: ReturnType<LensApi['tf']['softmax']>, k: number): TopToken[][] {
  const { values, indices } = api.tf.topk(probs, k);
  const v = values.arraySync() as number[][];
  const ix = indices.arraySync() as number[][];
  values.dispose();
  indices.dispose();
  return ix.map((row, p) => row.map((id, j) => ({ id, token: decodeTok(model, id), prob: v[p]?.[j] ?? 0 })));
}

/** Run a decoder on a text: tokens, patterns, last logits, top predictions, logit lens. */
export function runDecoder(api: LensApi, model: HookedTransformer, text: string): RunResult {
  const { tf } = api;
  const tokensT = model.toTokens(text); // [1, pos]
  const ids = (tokensT.arraySync() as number[][])[0] as number[];
  const tokens = ids.map((id) => decodeTok(model, id));
  const [logits, cache] = model.runWithCache(tokensT);
  try {
    const patterns = patternsOf(cache, model.cfg.nLayers);
    const nPos = ids.length;
    const last = tf.tidy(() => tf.reshape(tf.slice(logits, [0, nPos - 1, 0], [1, 1, -1]), [-1])); // [d_vocab]
    const lastLogits = Array.from(last.dataSync());
    last.dispose();
    const probs = tf.tidy(() => tf.softmax(tf.reshape(logits, [nPos, -1]))); // [pos, d_vocab]
    const topPreds = topRows(api, model, probs, 5);
    probs.dispose();
    let lens: LensData | undefined;
    if (api.logitLens !== undefined) {
      const perPos = ids.map((_, pos) => (api.logitLens as NonNullable<LensApi['logitLens']>)(cache, model, { pos, topK: 1, returnType: 'probs' }));
      const labels = perPos[0]?.labels ?? [];
      lens = {
        labels,
        top: labels.map((_, l) =>
          perPos.map((r) => {
            const id = r.topIds?.[l]?.[0]?.[0] ?? 0;
            return { id, token: decodeTok(model, id), prob: r.topValues?.[l]?.[0]?.[0] ?? 0 };
          }),
        ),
      };
    }
    return { kind: 'decoder', text, ids, tokens, patterns, lastLogits, topPreds, lens };
  } finally {
    tokensT.dispose();
    logits.dispose();
    cache.dispose();
  }
}

/** Run an encoder on a text: tokens and attention patterns. */
export function runEncoder(model: HookedEncoder, text: string): RunResult {
  const ids = model.encode(text).ids[0] ?? [];
  const tokens = ids.map((id) => decodeTok(model, id));
  const names = Array.from({ length: model.cfg.nLayers }, (_, l) => `blocks.${l}.attn.hook_pattern`);
  const [, cache] = model.runWithCache(text, { namesFilter: names, returnType: 'none' });
  try {
    return { kind: 'encoder', text, ids, tokens, patterns: patternsOf(cache, model.cfg.nLayers) };
  } finally {
    cache.dispose();
  }
}

/** Parse an answer token: `#123` is an id, anything else must encode to exactly one token. */
export function parseAnswer(model: HookedTransformer, s: string): number {
  const m = /^#(\d+)$/.exec(s.trim());
  if (m !== null) {
    const id = Number(m[1]);
    if (id >= model.cfg.dVocab) throw new Error(`answer token id ${id} is out of range (vocabulary ${model.cfg.dVocab})`);
    return id;
  }
  const ids = model.tokenizer?.encode(s) ?? [];
  if (ids.length !== 1) throw new Error(`answer "${s}" is ${ids.length} tokens (${ids.join(', ')}); type one token (mind the leading space) or #id`);
  return ids[0] as number;
}

/** Default answers: the clean run's top prediction vs the corrupted run's (its 2nd if they agree). */
export function defaultAnswers(api: LensApi, model: HookedTransformer, clean: string, corrupted: string): [number, number] {
  const top = (text: string): number[] =>
    api.tf.tidy(() => {
      const logits = model.logits(text); // [1, pos, d_vocab]
      const n = logits.shape[1];
      return Array.from(api.tf.topk(api.tf.reshape(api.tf.slice(logits, [0, n - 1, 0], [1, 1, -1]), [-1]), 2).indices.dataSync());
    });
  const a = top(clean);
  const b = top(corrupted);
  const correct = a[0] as number;
  const incorrect = b[0] === correct ? (b[1] ?? a[1] ?? 0) : (b[0] as number);
  return [correct, incorrect];
}

/**
 * Patch the clean residual stream into the corrupted run at each layer and position
 * (`getActPatchResidPre`) with the metric logit[correct] − logit[incorrect] at the last position.
 */
export function patchResidPre(api: LensApi, model: HookedTransformer, clean: string, corrupted: string, correct: number, incorrect: number): PatchResult {
  const { tf } = api;
  if (api.getActPatchResidPre === undefined || api.logitDiffMetric === undefined) throw new Error('this tfjs-lens bundle does not export getActPatchResidPre / logitDiffMetric');
  const cleanT = model.toTokens(clean); // [1, pos]
  const corrT = model.toTokens(corrupted); // [1, pos]
  try {
    if (cleanT.shape[1] !== corrT.shape[1]) {
      throw new Error(`clean (${cleanT.shape[1]} tokens) and corrupted (${corrT.shape[1]} tokens) prompts must have the same number of tokens`);
    }
    const metric = api.logitDiffMetric(correct, incorrect);
    const names = Array.from({ length: model.cfg.nLayers }, (_, l) => `blocks.${l}.hook_resid_pre`);
    const [cleanLogits, cache] = model.runWithCache(cleanT, { namesFilter: names });
    try {
      const corrLogits = model.logits(corrT);
      const cleanMetric = tf.tidy(() => metric(cleanLogits).dataSync()[0] as number);
      const corruptedMetric = tf.tidy(() => metric(corrLogits).dataSync()[0] as number);
      corrLogits.dispose();
      const out = api.getActPatchResidPre(model, corrT, cache, metric, { quiet: true });
      const values = out.arraySync() as number[][];
      out.dispose();
      const ids = (cleanT.arraySync() as number[][])[0] as number[];
      return { values, tokens: ids.map((id) => decodeTok(model, id)), correct, incorrect, cleanMetric, corruptedMetric };
    } finally {
      cleanLogits.dispose();
      cache.dispose();
    }
  } finally {
    cleanT.dispose();
    corrT.dispose();
  }
}

/** SAE latents of a text at the SAE's hook: top `k` per token and the strongest features overall. */
export function saeFeatures(api: LensApi, model: Model, kind: 'decoder' | 'encoder', sae: SparseAutoencoder, hook: string, text: string, k = 5): SaeResult {
  const { tf } = api;
  const enc = model as HookedEncoder;
  const dec = model as HookedTransformer;
  const [, cache] = kind === 'encoder' ? enc.runWithCache(text, { namesFilter: [hook], returnType: 'none' }) : dec.runWithCache(text, { namesFilter: [hook], returnType: 'none' });
  try {
    const ids = kind === 'encoder' ? (enc.encode(text).ids[0] ?? []) : tf.tidy(() => Array.from(dec.toTokens(text).dataSync()));
    const tokens = ids.map((id) => decodeTok(model, id));
    const acts = tf.tidy(() => {
      const x = cache.get(hook);
      const nPos = x.shape[1] as number;
      const flat = tf.reshape(x, [nPos, -1]); // [pos, d_in] (heads × d_head flattened)
      return tf.reshape(sae.encode(flat), [nPos, -1]); // [pos, d_sae]
    });
    const grid = acts.arraySync() as number[][];
    acts.dispose();
    const perToken = grid.map((row) =>
      row
        .map((act, id) => ({ id, act }))
        .filter((f) => f.act > 0)
        .sort((a, b) => b.act - a.act)
        .slice(0, k),
    );
    const maxAct = new Map<number, number>();
    grid.forEach((row) => row.forEach((a, id) => a > 0 && maxAct.set(id, Math.max(a, maxAct.get(id) ?? 0))));
    const features = [...maxAct.entries()].sort((a, b) => b[1] - a[1]).slice(0, 12).map(([id]) => id);
    return {
      hook,
      tokens,
      perToken,
      features,
      grid: features.map((f) => grid.map((row) => row[f] ?? 0)),
      l0: grid.map((row) => row.filter((a) => a > 0).length),
    };
  } finally {
    cache.dispose();
  }
}
