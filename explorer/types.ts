/**
 * Plain-data results the explorer computes and shows (no DOM or tensor types, so tests can import
 * them), and the handle it exposes on `window.__explorer`.
 */

/** One top-k entry. */
export interface TopToken {
  readonly id: number;
  readonly token: string;
  readonly prob: number;
}

/** Logit-lens grid: `top[layer][pos]` for each stack label. */
export interface LensData {
  readonly labels: readonly string[];
  readonly top: readonly (readonly TopToken[])[];
}

/** A decoder or encoder run, as plain arrays. */
export interface RunResult {
  readonly kind: 'decoder' | 'encoder';
  readonly text: string;
  readonly ids: number[];
  readonly tokens: string[];
  /** [layer][head][query][key]. */
  readonly patterns: number[][][][];
  /** Decoders: logits at the last position, all vocabulary. */
  readonly lastLogits?: number[];
  /** Decoders: top-5 next-token predictions per position. */
  readonly topPreds?: TopToken[][];
  /** Decoders: logit lens grid (undefined when the bundle lacks logitLens). */
  readonly lens?: LensData;
}

/** Activation patching result: metric values [layer][pos] and the two reference runs. */
export interface PatchResult {
  readonly values: number[][];
  readonly tokens: string[];
  readonly correct: number;
  readonly incorrect: number;
  readonly cleanMetric: number;
  readonly corruptedMetric: number;
}

/** Per-token SAE latents: top features per token, and the strongest features over the text. */
export interface SaeResult {
  readonly hook: string;
  readonly tokens: string[];
  /** [pos] → top features (id, activation), activation > 0 only. */
  readonly perToken: { id: number; act: number }[][];
  /** Features with the highest max activation, and their activations [feature][pos]. */
  readonly features: number[];
  readonly grid: number[][];
  readonly l0: number[];
}

/** A scored text. */
export interface ProbeView {
  readonly dataset: string;
  readonly score: number;
  /** Score above which a text is flagged, when the probe ships one. */
  readonly threshold?: number;
  readonly tokens: readonly string[];
  /** Contribution of each token to the score. */
  readonly contributions: readonly number[];
  readonly method: string;
}

/** What the page exposes for tests and the console. */
export interface ExplorerHandle {
  status: 'starting' | 'loading' | 'running' | 'ready' | 'error';
  error?: string;
  model?: string;
  backend?: unknown;
  run?: RunResult;
  patch?: PatchResult;
  sae?: SaeResult;
  probe?: ProbeView;
  /** Live tfjs tensors (model weights included): unchanged by a run when nothing leaks. */
  numTensors(): number;
  /** Load a model by name. */
  load(name: string): Promise<void>;
  /** Run the loaded model on a text (updates every view). */
  runText(text: string): Promise<void>;
  /** Run the patching view (answers: token strings or #id; empty = defaults). */
  runPatch(clean: string, corrupted: string, correct?: string, incorrect?: string): Promise<void>;
}
