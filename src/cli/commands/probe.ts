/**
 * `tfjs-lens probe`: the β-VAE anomaly-detection benchmarks. `probe synthetic` runs the synthetic
 * grid (task seed 001); `probe --dataset …` runs the text OOD benchmark (task seed 000) on a
 * hooked encoder's pooled activations, with the baselines, plots and a results table.
 */
import { ConfigError } from '../../errors.js';
import { PROBE_DATASETS, type ProbeDatasetName } from '../../probe/text_datasets.js';
import { runProbeSynthetic } from './probe_synthetic.js';
import { runProbeText, type ProbeTextOptions } from './probe_text.js';

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
  cacheDir: 'results/cache',
  epochs: 200,
  betaMax: 0.3,
  latentDim: 64,
  seed: 0,
  maxLength: 128,
  maxTrain: 1000,
  maxTest: 500,
  pplSamples: 40,
} as const;

function num(v: string | undefined, name: string, dflt: number, check: (n: number) => boolean, what: string): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (v.trim() === '' || !check(n)) throw new ConfigError(`probe: --${name} must be ${what}, got '${v}'`);
  return n;
}

const int = (min: number) => (n: number): boolean => Number.isInteger(n) && n >= min;

/**
 * Resolve and check the text-run options.
 * @param a Raw strings from the command line.
 * @returns Options with defaults filled in.
 * @throws {@link "tfjs-lens"!ConfigError} for an unknown dataset or a malformed number.
 */
export function resolveProbeTextOptions(a: ProbeArgs): ProbeTextOptions {
  const d = PROBE_TEXT_DEFAULTS;
  const ds = a.dataset ?? 'all';
  if (ds !== 'all' && !(PROBE_DATASETS as readonly string[]).includes(ds)) {
    throw new ConfigError(`probe: --dataset must be one of ${[...PROBE_DATASETS, 'all'].join(', ')} (or the 'synthetic' subcommand), got '${ds}'`);
  }
  return {
    json: a.json,
    model: a.model ?? d.model,
    datasets: ds === 'all' ? PROBE_DATASETS : [ds as ProbeDatasetName],
    layer: num(a.layer, 'layer', d.layer, int(0), 'an integer ≥ 0'),
    hook: a.hook ?? d.hook,
    outputDir: a.outputDir ?? d.outputDir,
    cacheDir: a.cacheDir ?? d.cacheDir,
    forceReprocess: a.forceReprocess === true,
    epochs: num(a.epochs, 'epochs', d.epochs, int(1), 'a positive integer'),
    betaMax: num(a.betaMax, 'beta-max', d.betaMax, (n) => n >= 0, 'a number ≥ 0'),
    latentDim: num(a.latentDim, 'latent-dim', d.latentDim, int(1), 'a positive integer'),
    seed: num(a.seed, 'seed', d.seed, int(0), 'an integer ≥ 0'),
    maxLength: num(a.maxLength, 'max-length', d.maxLength, int(3), 'an integer ≥ 3'),
    maxTrain: num(a.maxSamples, 'max-samples', d.maxTrain, int(4), 'an integer ≥ 4'),
    maxTest: num(a.maxTest, 'max-test', d.maxTest, int(2), 'an integer ≥ 2'),
    pplSamples: num(a.pplSamples, 'ppl-samples', d.pplSamples, int(0), 'an integer ≥ 0'),
  };
}

/**
 * Run the probe command.
 * @param a Parsed arguments.
 * @returns The exit code.
 * @throws {@link "tfjs-lens"!ConfigError} for bad options; loader and dataset errors from the run.
 */
export async function runProbe(a: ProbeArgs): Promise<number> {
  const sub = a.positionals[1];
  if (sub === 'synthetic') {
    const seed = num(a.seed, 'seed', 0, int(0), 'an integer ≥ 0');
    const epochs = num(a.epochs, 'epochs', 60, int(1), 'a positive integer');
    await runProbeSynthetic({ json: a.json, outputDir: a.outputDir ?? PROBE_TEXT_DEFAULTS.outputDir, seeds: [seed, seed + 1, seed + 2], epochs });
    return 0;
  }
  if (sub !== undefined) throw new ConfigError(`probe: unknown subcommand '${sub}' — expected 'synthetic' or none (text benchmark)`);
  await runProbeText(resolveProbeTextOptions(a));
  return 0;
}
