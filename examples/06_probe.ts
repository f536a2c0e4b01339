/**
 * Example 6: a β-VAE probe as an anomaly detector. Pool a hook's activations (DistilBERT q_lin of
 * layer 0 = `blocks.0.attn.hook_q`) over each text, train the VAE on normal texts only (SMS ham),
 * and flag spam by reconstruction error; compare with the Mahalanobis baseline on the same features;
 * save the probe and write the plots. Then the synthetic benchmark at one grid cell.
 * The full benchmarks are `tfjs-lens probe --dataset all` and `tfjs-lens probe synthetic`.
 * Run: npx tsx examples/06_probe.ts [model alias/path/hub id, default distilbert-mini]
 */
import { HookedEncoder } from '../src/index.js';
import {
  BetaVae,
  applyScaler,
  detectionMetrics,
  extractPooledFeatures,
  fitMahalanobis,
  fitScaler,
  loadProbeDataset,
  quantileThreshold,
  rocAuc,
  saveBetaVae,
  selectRows,
  trainBetaVae,
  umapEmbed,
  vaeScores,
} from '../src/probe/index.js';
import { writeLatentMap, writeRocPr, writeVaeHistory } from '../src/viz/index.js';
import { runSyntheticGrid } from '../src/cli/probe_bench/synthetic_bench.js';

const model = await HookedEncoder.fromPretrained(process.argv[2] ?? 'distilbert-mini');
const hookName = 'blocks.0.attn.hook_q';
const ds = await loadProbeDataset('sms_spam', { maxTrain: 400, maxTest: 200 });
const trainRaw = extractPooledFeatures(model, ds.trainTexts, { hookName, maxLength: 128 }); // [400, d_model]
const testRaw = extractPooledFeatures(model, ds.testTexts, { hookName, maxLength: 128 }); // [200, d_model]
model.dispose();

// Standardise on the normal training texts, train on them only.
const scaler = fitScaler(trainRaw, 'standard');
const [train, test] = [applyScaler(scaler, trainRaw), applyScaler(scaler, testRaw)];
const vae = new BetaVae({ dIn: train.cols, dLatent: 32, seed: 0 });
const fit = trainBetaVae(vae, train, { epochs: 80, betaMax: 0.3, seed: 0 });
const held = vaeScores(vae, selectRows(train, fit.valIdx)).recon; // normal texts the VAE never trained on
const scores = vaeScores(vae, test);
const vaeMetrics = detectionMetrics(scores.recon, ds.testLabels, quantileThreshold(held, 0.95));
const maha = fitMahalanobis(selectRows(train, fit.trainIdx));
console.log(`β-VAE: AUROC ${vaeMetrics.auroc.toFixed(3)}, AUPR ${vaeMetrics.aupr.toFixed(3)}, F1 ${vaeMetrics.f1.toFixed(3)}, confusion ${JSON.stringify(vaeMetrics.confusion)}`);
console.log(`Mahalanobis: AUROC ${rocAuc(maha.score(test), ds.testLabels).toFixed(3)}`);

const out = 'results/examples/06_probe';
await saveBetaVae(vae, `${out}/vae`, { scaler, metadata: { hookName, dataset: 'sms_spam' } });
writeLatentMap(`${out}/latent_umap.html`, umapEmbed(scores.mu, { seed: 0 }), ds.testLabels, { title: 'UMAP of the β-VAE latent (SMS test texts)' });
writeVaeHistory(`${out}/history.html`, fit.history, { title: 'β-VAE training' });
writeRocPr(`${out}/roc_pr.html`, [
  { name: `β-VAE (AUROC ${vaeMetrics.auroc.toFixed(3)})`, scores: scores.recon, labels: ds.testLabels },
  { name: 'Mahalanobis', scores: maha.score(test), labels: ds.testLabels },
]);
vae.dispose();

// Synthetic benchmark, one grid cell and one seed (the full grid: `tfjs-lens probe synthetic`).
const grid = runSyntheticGrid({ seeds: [0], betas: [1], latents: [5] });
console.log(`synthetic β 1, latent 5: AUROC ${grid.best.auroc.toFixed(4)}, AUPR ${grid.best.aupr.toFixed(4)}; Mahalanobis AUROC ${grid.mahalanobis.auroc.toFixed(4)}`);
console.log(`wrote ${out}/`);
