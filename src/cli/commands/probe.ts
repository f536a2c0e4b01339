/**
 * `tfjs-lens probe`: the β-VAE anomaly-detection benchmarks. `probe synthetic` runs the synthetic
 * grid (task seed 001); `probe --dataset …` runs the text OOD benchmark (task seed 000) on a
 * hooked encoder's pooled activations, with the baselines, plots and a results table.
 */
import { UsageError } from '../../errors.js';
import { PROBE_DATASETS, type ProbeDatasetName } from '../../probe/text_datasets.js';
import { choiceOption, didYouMean, floatOption, intOption } from '../cli_args.js';
import type { ProbeTextOptions } from './probe_text.js';

/** Raw option strings of the probe command, as parsed by main.ts. */
interface ProbeArgs {
  readonly json: boolean;
  readonly positionals: readonly string[];
  readonly model?: string | undefined;
  readonly dataset?: string | undefined;
  readonly layer?: string | undefined;
  readonly hook?: string | undefined;
  readonly outputDir?: string | undefined;
  readonly cacheDir?: string | undefined;
  readonly forceReprocess?: boolean | undefined;
  readonly epochs?: string | undefined;
  readonly betaMax?: string | undefined;
  readonly latentDim?: string | undefined;
  readonly seed?: string | undefined;
  readonly seeds?: string | undefined;
  readonly maxDev?: string | undefined;
  readonly maxLength?: string | undefined;
  readonly maxSamples?: string | undefined;
  readonly maxTest?: string | undefined;
  readonly pplSamples?: string | undefined;
}

/** Defaults of the text benchmark: sized so `--dataset all` takes a few minutes on 2 CPU cores. */
const PROBE_TEXT_DEFAULTS = {
  model: 'distilbert-mini',
  layer: 0,
  hook: 'q',
  outputDir: 'results/probe',
  cacheDir: '.cache/probe-features',
  // 60, not the anchor's 200 fixed epochs (with early stopping on a held-out 10% of train), so
  // that three seeds of four datasets fit in about ten minutes on 2 CPU cores.
  epochs: 60,
  betaMax: 0.3,
  latentDim: 64,
  seed: 0,
  seeds: 3,
  maxLength: 128,
  maxTrain: 1000,
  maxDev: 300,
  maxTest: 500,
  pplSamples: 40,
} as const;

/** Text-benchmark options that `probe synthetic` does not take. */
const TEXT_ONLY: readonly (keyof ProbeArgs)[] = ['model', 'dataset', 'layer', 'hook', 'cacheDir', 'forceReprocess', 'betaMax', 'latentDim', 'maxLength', 'maxSamples', 'maxDev', 'maxTest', 'pplSamples', 'seeds'];

const flagName = (k: string): string => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

/**
 * Resolve and check the text-run options.
 * @param a Raw strings from the command line.
 * @returns Options with defaults filled in.
 * @throws {@link "tfjs-lens"!UsageError} (a ConfigError) for an unknown dataset or a malformed or out-of-range number.
 */
export function resolveProbeTextOptions(a: ProbeArgs): ProbeTextOptions {
  const d = PROBE_TEXT_DEFAULTS;
  const ds = choiceOption<ProbeDatasetName | 'all'>('probe', a.dataset, 'dataset', [...PROBE_DATASETS, 'all'], 'all', { fake_news: 'liar', LIAR: 'liar' });
  return {
    json: a.json,
    model: a.model ?? d.model,
    datasets: ds === 'all' ? PROBE_DATASETS : [ds],
    layer: intOption('probe', a.layer, 'layer', { dflt: d.layer, min: 0 }),
    hook: a.hook ?? d.hook,
    outputDir: a.outputDir ?? d.outputDir,
    cacheDir: a.cacheDir ?? d.cacheDir,
    forceReprocess: a.forceReprocess === true,
    epochs: intOption('probe', a.epochs, 'epochs', { dflt: d.epochs, min: 1 }),
    betaMax: floatOption('probe', a.betaMax, 'beta-max', { dflt: d.betaMax, min: 0 }),
    latentDim: intOption('probe', a.latentDim, 'latent-dim', { dflt: d.latentDim, min: 1 }),
    seed: intOption('probe', a.seed, 'seed', { dflt: d.seed, min: 0 }),
    seeds: intOption('probe', a.seeds, 'seeds', { dflt: d.seeds, min: 1 }),
    maxLength: intOption('probe', a.maxLength, 'max-length', { dflt: d.maxLength, min: 3 }),
    maxTrain: intOption('probe', a.maxSamples, 'max-samples', { dflt: d.maxTrain, min: 4 }),
    maxDev: intOption('probe', a.maxDev, 'max-dev', { dflt: d.maxDev, min: 4 }),
    maxTest: intOption('probe', a.maxTest, 'max-test', { dflt: d.maxTest, min: 4 }),
    pplSamples: intOption('probe', a.pplSamples, 'ppl-samples', { dflt: d.pplSamples, min: 0 }),
  };
}

/**
 * Run the probe command.
 * @param a Parsed arguments.
 * @returns The exit code.
 * @throws {@link "tfjs-lens"!UsageError} for bad options; loader and dataset errors from the run.
 */
export async function runProbe(a: ProbeArgs): Promise<number> {
  const sub = a.positionals[1];
  if (sub === 'synthetic') {
    const given = TEXT_ONLY.find((k) => a[k] !== undefined && a[k] !== false);
    if (given !== undefined) throw new UsageError(`probe synthetic: ${flagName(given)} is an option of the text benchmark (tfjs-lens probe --dataset …), not of 'probe synthetic'`);
    const seed = intOption('probe synthetic', a.seed, 'seed', { dflt: 0, min: 0 });
    const epochs = intOption('probe synthetic', a.epochs, 'epochs', { dflt: 60, min: 1 });
    const { runProbeSynthetic } = await import('./probe_synthetic.js'); // after the options are checked: fast usage errors
    await runProbeSynthetic({ json: a.json, outputDir: a.outputDir ?? PROBE_TEXT_DEFAULTS.outputDir, seeds: [seed, seed + 1, seed + 2], epochs });
    return 0;
  }
  if (sub !== undefined) throw new UsageError(`probe: unknown subcommand '${sub}'${didYouMean(sub, ['synthetic'])} (expected 'synthetic', or none for the text benchmark)`);
  const o = resolveProbeTextOptions(a);
  const { runProbeText } = await import('./probe_text.js');
  await runProbeText(o);
  return 0;
}
