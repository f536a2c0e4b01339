/**
 * A page highlighting each token of one text by its attribution to a detector's score: one strip per
 * method (gradient × input, integrated gradients, attention rollout …), each a one-row heatmap with the
 * token written in its cell, coloured on a diverging red–blue scale centred at 0 and symmetric about it
 * (red: pushes the score up, towards "anomalous"; blue: down), with its own titled colour bar. The
 * score, the score's definition, the methods and the one-line explanation are in the page header.
 */
import { ShapeError } from '../errors.js';
import { heatmapColors } from './heatmap.js';
import { writePlotlyPage } from './html.js';
import type { PlotlyFigure } from './plotly_types.js';

/** One method's attributions over the page's tokens. @category Viz */
export interface TokenStrip {
  /** Method name shown as the strip's title ("integrated gradients (32 steps, PAD baseline)"). */
  readonly method: string;
  /** One value per token. */
  readonly values: readonly number[];
  /** Colour-bar title (default 'attribution to the score'). */
  readonly unit?: string;
}

/** Options of {@link writeTokenExplanation}. @category Viz */
export interface TokenExplanationOptions {
  /** Page title. */
  readonly title: string;
  /** The explained score (e.g. 3.2). */
  readonly score: number;
  /** What the score is ("logit(spam) − logit(ham) of the fine-tuned distilbert-mini"). */
  readonly scoreName: string;
  /** The one-line explanation shown under the title. */
  readonly summary?: string;
  /** Extra label–value rows for the header table. */
  readonly facts?: readonly (readonly [string, string])[];
  /** Where plotly.js comes from (default 'shared' next to the page). */
  readonly plotly?: 'shared' | 'inline';
  /** Folder of the shared plotly.min.js. */
  readonly plotlyDir?: string;
  /** Optional section: the SAE features that carry the score (β-VAE probe; see `explainProbeBySaeFeatures`). */
  readonly saeFeatures?: SaeFeatureSection;
}

/** One SAE feature's bar in {@link SaeFeatureSection}. @category Viz */
export interface SaeFeatureBar {
  /** Feature index in the SAE. */
  readonly index: number;
  /** Its attribution to the score. */
  readonly attribution: number;
  /** Score minus the score with the feature ablated. */
  readonly ablationEffect: number;
}

/** The optional SAE-feature section of a token-explanation page. @category Viz */
export interface SaeFeatureSection {
  /** The one-line summary ("anomaly score 3.2 carried by SAE features #17 (+0.90), …"). */
  readonly summary: string;
  /** The top features: index, attribution and true-ablation effect. */
  readonly features: readonly SaeFeatureBar[];
}

/** Grouped bars: each feature's attribution next to its true-ablation effect. */
function saeFeatureFigure(sec: SaeFeatureSection): PlotlyFigure {
  const x = sec.features.map((f) => `#${f.index}`);
  return {
    data: [
      { type: 'bar', name: 'attribution', x, y: sec.features.map((f) => f.attribution) },
      { type: 'bar', name: 'ablation effect (score − score without the feature)', x, y: sec.features.map((f) => f.ablationEffect) },
    ],
    layout: { title: { text: 'SAE features carrying the score' }, barmode: 'group', xaxis: { title: { text: 'SAE feature' }, type: 'category' }, yaxis: { title: { text: 'share of the score' } }, margin: { t: 50, b: 50 } },
    height: 320,
  };
}

/**
 * Build the figures of a token-explanation page (one heatmap strip per method).
 * @param tokens Token strings.
 * @param strips One strip per method, each with one value per token.
 * @returns Plotly figures.
 * @throws {@link "tfjs-lens"!ShapeError} for no tokens, no strips or a strip of another length.
 * @category Viz
 */
export function tokenExplanationFigures(tokens: readonly string[], strips: readonly TokenStrip[]): PlotlyFigure[] {
  if (tokens.length === 0) throw new ShapeError('tokenExplanationFigures: no tokens to show');
  if (strips.length === 0) throw new ShapeError('tokenExplanationFigures: need at least one method strip');
  return strips.map((s) => {
    if (s.values.length !== tokens.length) throw new ShapeError(`tokenExplanationFigures: strip '${s.method}' has ${s.values.length} values for ${tokens.length} tokens`);
    const z = [[...s.values]];
    const colors = heatmapColors(z, 'signed', 0, s.unit ?? 'attribution to the score');
    const x = tokens.map((_, i) => i);
    return {
      data: [{
        type: 'heatmap', z, x, y: [s.method], text: [tokens.map((t) => t)], texttemplate: '%{text}', textfont: { size: 13 },
        hovertemplate: 'token %{x}: %{text}<br>attribution %{z:.4f}<extra></extra>', xgap: 2, ...colors,
      }],
      layout: {
        title: { text: s.method },
        xaxis: { title: { text: 'token (position)' }, tickmode: 'array', tickvals: x, ticktext: tokens.map((t, i) => `${i}`), automargin: true },
        yaxis: { title: { text: 'method' }, showticklabels: false },
        margin: { t: 50, b: 50 },
      },
      height: 200,
    };
  });
}

/**
 * Write the token-explanation page.
 * @param outPath Destination `.html` file.
 * @param tokens Token strings of the text.
 * @param strips One strip per method.
 * @param opts Title, score and its definition, the one-line summary, facts, plotly mode.
 * @returns The absolute path written.
 * @throws {@link "tfjs-lens"!ShapeError} for mismatched lengths; Node's file-system errors.
 * @example writeTokenExplanation('results/explain/ex0.html', ['[CLS]', 'free', '[SEP]'], [{ method: 'grad × input', values: [0, 1.2, 0] }], { title: 'Why spam?', score: 2.1, scoreName: 'logit(spam) − logit(ham)' });
 * @category Viz
 */
export function writeTokenExplanation(outPath: string, tokens: readonly string[], strips: readonly TokenStrip[], opts: TokenExplanationOptions): string {
  const sae = opts.saeFeatures;
  const figures = [...tokenExplanationFigures(tokens, strips), ...(sae === undefined || sae.features.length === 0 ? [] : [saeFeatureFigure(sae)])];
  return writePlotlyPage(outPath, figures, {
    title: opts.title,
    description: `${opts.summary === undefined ? '' : `${opts.summary}. `}Each strip colours the tokens by one method's attribution: red pushes the score up (towards anomalous), blue pushes it down; the colour scale is centred at 0 and symmetric, separately per method.`,
    facts: [['score', `${opts.score.toFixed(4)} (${opts.scoreName})`], ['methods', strips.map((s) => s.method).join('; ')], ...(sae === undefined ? [] : [['SAE features', sae.summary] as const]), ...(opts.facts ?? [])],
    plotly: opts.plotly ?? 'shared',
    ...(opts.plotlyDir === undefined ? {} : { plotlyDir: opts.plotlyDir }),
  });
}
