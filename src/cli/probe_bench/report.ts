/**
 * Result tables of the probe benchmarks as Markdown, and the anchor's published figures they are
 * compared with: ROC-AUC of `ivangonquir/vae-transformer-ood` (`output/results/summary.json`;
 * distilbert-base-uncased, mean-pooled layer-0 output, 64-d β-VAE, reconstruction MSE).
 */
import type { ProbeDatasetName } from '../../probe/text_datasets.js';
import type { SyntheticCell } from './synthetic_bench.js';

/**
 * The anchor's published ROC-AUC per dataset. Its fake-news set was GonzaloA/fake_news (articles),
 * not LIAR, so that row compares different data.
 * @category Probe
 */
export const ANCHOR_AUROC: Readonly<Record<ProbeDatasetName, number>> = { sms_spam: 0.747, imdb: 0.474, ag_news: 0.823, liar: 0.734 };

/**
 * One dataset's row of the text table.
 * @category Probe
 */
export interface TextTableRow {
  /** Dataset. */
  readonly dataset: ProbeDatasetName;
  /** Test texts (normal / anomalous). */
  readonly nTest: readonly [number, number];
  /** ROC-AUC by detector name (`vae_recon`, `mahalanobis`, …). */
  readonly auroc: Readonly<Record<string, number>>;
  /** PR-AUC by detector name. */
  readonly aupr: Readonly<Record<string, number>>;
  /** F1 at the threshold by detector name. */
  readonly f1: Readonly<Record<string, number>>;
  /** Rows the pseudo-perplexity scored, if any. */
  readonly pplN?: number;
}

const f3 = (v: number | undefined): string => (v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(3));

/**
 * The text benchmark table: ROC-AUC of every detector next to the anchor's figure.
 * @param rows One row per dataset.
 * @param detectors Column order (detector names).
 * @returns Markdown (ROC-AUC table, then PR-AUC and F1 of the VAE and Mahalanobis).
 * @throws Never.
 * @example console.log(textResultsTable(rows, ['vae_recon', 'mahalanobis']));
 * @category Probe
 */
export function textResultsTable(rows: readonly TextTableRow[], detectors: readonly string[]): string {
  const head = ['dataset', 'test (norm/anom)', 'anchor (distilbert-base)', ...detectors];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const r of rows) {
    const cells = detectors.map((d) => (d === 'pseudo_perplexity' && r.pplN !== undefined ? `${f3(r.auroc[d])} (n=${r.pplN})` : f3(r.auroc[d])));
    lines.push(`| ${r.dataset} | ${r.nTest[0]}/${r.nTest[1]} | ${f3(ANCHOR_AUROC[r.dataset])} | ${cells.join(' | ')} |`);
  }
  lines.push('', '| dataset | VAE AUPR | VAE F1 | Mahalanobis AUPR | Mahalanobis F1 | ensemble AUPR |', '|---|---|---|---|---|---|');
  for (const r of rows) {
    lines.push(`| ${r.dataset} | ${f3(r.aupr['vae_recon'])} | ${f3(r.f1['vae_recon'])} | ${f3(r.aupr['mahalanobis'])} | ${f3(r.f1['mahalanobis'])} | ${f3(r.aupr['ensemble_rank_avg'])} |`);
  }
  return lines.join('\n');
}

/**
 * The synthetic grid table: mean ± std over seeds per (β, latent) cell.
 * @param cells Grid cells.
 * @param best The best cell (marked).
 * @param mahalanobis Mahalanobis reference on the same splits.
 * @returns Markdown.
 * @throws Never.
 * @example console.log(syntheticTable(r.cells, r.best, r.mahalanobis));
 * @category Probe
 */
export function syntheticTable(cells: readonly SyntheticCell[], best: SyntheticCell, mahalanobis: { auroc: number; aupr: number; f1: number }): string {
  const lines = ['| β | latent | AUROC | AUPR | F1 | precision | recall |', '|---|---|---|---|---|---|---|'];
  for (const c of cells) {
    const mark = c === best ? ' **best**' : '';
    lines.push(`| ${c.beta} | ${c.latent}${mark} | ${c.auroc.toFixed(4)} ± ${c.aurocStd.toFixed(4)} | ${c.aupr.toFixed(4)} ± ${c.auprStd.toFixed(4)} | ${c.f1.toFixed(3)} | ${c.precision.toFixed(3)} | ${c.recall.toFixed(3)} |`);
  }
  lines.push(`| Mahalanobis | – | ${mahalanobis.auroc.toFixed(4)} | ${mahalanobis.aupr.toFixed(4)} | ${mahalanobis.f1.toFixed(3)} | | |`);
  return lines.join('\n');
}
