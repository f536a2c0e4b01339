/**
 * Example 6: a β-VAE probe as an anomaly detector. Pool a hook's activations (DistilBERT q_lin of
 * layer 0 = `blocks.0.attn.hook_q`) over each text, train the VAE on normal texts only (SMS ham),
 * and flag spam by reconstruction error; compare with the Mahalanobis baseline on the same features;
 * save the probe and write the plots. Then the synthetic benchmark at one grid cell.
 * The full benchmarks are `tfjs-lens probe --dataset all` and `tfjs-lens probe synthetic`.
 * Run: npx tsx examples/06_probe.ts [--model distilbert-mini] [--max-train 400] [--max-test 200] [--epochs 80]
 *   [--out results/examples/06_probe] [--json]
 * `--model distilbert-base-uncased` needs the Hugging Face hub (network) or a copy in the HF cache.
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
import { intOption, parseCliArgs, runCliMain } from '../src/cli/cli_args.js';

const NAME = 'examples/06_probe';
const OPTIONS = {
  model: { type: 'string', default: 'distilbert-mini' },
  'max-train': { type: 'string' },
  'max-test': { type: 'string' },
  epochs: { type: 'string' },
  out: { type: 'string', default: 'results/examples/06_probe' },
  json: { type: 'boolean', default: false },
} as const;

async function main(): Promise<number> {
  const { values: v } = parseCliArgs(NAME, process.argv.slice(2), OPTIONS);
  const maxTrain = intOption(NAME, v['max-train'], 'max-train', { dflt: 400, min: 20 });
  const maxTest = intOption(NAME, v['max-test'], 'max-test', { dflt: 200, min: 10 });
  const epochs = intOption(NAME, v.epochs, 'epochs', { dflt: 80, min: 1 });
  const log = (line: string): void => void (v.json ? process.stderr : process.stdout).write(`${line}\n`);
  const model = await HookedEncoder.fromPretrained(v.model, { quiet: true });
  const hookName = 'blocks.0.attn.hook_q';
  const ds = await loadProbeDataset('sms_spam', { maxTrain, maxTest });
  let trainRaw, testRaw;
  try {
    trainRaw = extractPooledFeatures(model, ds.trainTexts, { hookName, maxLength: 128 }); // [n_train, d_model]
    testRaw = extractPooledFeatures(model, ds.testTexts, { hookName, maxLength: 128 }); // [n_test, d_model]
  } finally {
    model.dispose();
  }

  // Standardise on the normal training texts, train on them only.
  const scaler = fitScaler(trainRaw, 'standard');
  const [train, test] = [applyScaler(scaler, trainRaw), applyScaler(scaler, testRaw)];
  const vae = new BetaVae({ dIn: train.cols, dLatent: 32, seed: 0 });
  try {
    const fit = trainBetaVae(vae, train, { epochs, betaMax: 0.3, seed: 0 }, { quiet: v.json });
    const held = vaeScores(vae, selectRows(train, fit.valIdx)).recon; // normal texts the VAE never trained on
    const scores = vaeScores(vae, test);
    const vaeMetrics = detectionMetrics(scores.recon, ds.testLabels, quantileThreshold(held, 0.95));
    const maha = fitMahalanobis(selectRows(train, fit.trainIdx));
    const mahaAuroc = rocAuc(maha.score(test), ds.testLabels);
    log(`${v.model} ${hookName}, SMS spam (${ds.trainTexts.length} normal training texts, ${ds.testTexts.length} test texts)`);
    log(`β-VAE: AUROC ${vaeMetrics.auroc.toFixed(3)}, AUPR ${vaeMetrics.aupr.toFixed(3)}, F1 ${vaeMetrics.f1.toFixed(3)}, confusion ${JSON.stringify(vaeMetrics.confusion)}`);
    log(`Mahalanobis: AUROC ${mahaAuroc.toFixed(3)}`);

    const out = v.out;
    await saveBetaVae(vae, `${out}/vae`, { scaler, metadata: { hookName, dataset: 'sms_spam' } });
    const files = [
      writeLatentMap(`${out}/latent_umap.html`, umapEmbed(scores.mu, { seed: 0 }), ds.testLabels, { title: `UMAP of the β-VAE latent (SMS test texts, ${v.model} ${hookName})` }),
      writeVaeHistory(`${out}/history.html`, fit.history, { title: `β-VAE training on ${v.model} ${hookName} features (SMS ham)` }),
      writeRocPr(`${out}/roc_pr.html`, [
        { name: 'β-VAE reconstruction error', scores: scores.recon, labels: ds.testLabels },
        { name: 'Mahalanobis distance', scores: maha.score(test), labels: ds.testLabels },
      ], { title: `SMS spam as anomaly: ROC and precision–recall (${v.model} ${hookName})` }),
    ];

    // Synthetic benchmark, one grid cell and one seed (the full grid: `tfjs-lens probe synthetic`).
    const grid = runSyntheticGrid({ seeds: [0], betas: [1], latents: [5] });
    log(`synthetic β 1, latent 5: AUROC ${grid.best.auroc.toFixed(4)}, AUPR ${grid.best.aupr.toFixed(4)}; Mahalanobis AUROC ${grid.mahalanobis.auroc.toFixed(4)}`);
    log(`wrote ${out}/`);
    if (v.json) {
      process.stdout.write(`${JSON.stringify({
        example: '06_probe', model: v.model, hookName, dataset: 'sms_spam', nTrain: ds.trainTexts.length, nTest: ds.testTexts.length, epochs,
        vae: { auroc: vaeMetrics.auroc, aupr: vaeMetrics.aupr, f1: vaeMetrics.f1, confusion: vaeMetrics.confusion },
        mahalanobis: { auroc: mahaAuroc },
        synthetic: { auroc: grid.best.auroc, aupr: grid.best.aupr, mahalanobisAuroc: grid.mahalanobis.auroc },
        files,
      })}\n`);
    }
  } finally {
    vae.dispose();
  }
  return 0;
}

await runCliMain(NAME, main);
