#!/usr/bin/env node
/**
 * tfjs-lens command line: argument parsing (node:util parseArgs) and dispatch; wiring only.
 * Every command takes --json and then prints one JSON object on stdout.
 */
import { parseArgs } from 'node:util';
import { InterpError } from '../errors.js';
import { runDemo } from './commands/demo.js';
import { runCircuitCommand } from './commands/circuit.js';
import { runHooks } from './commands/hooks.js';
import { runProbe } from './commands/probe.js';
import { runSaeCommand } from './commands/sae.js';

const USAGE = `usage: tfjs-lens <command> [options]

commands:
  demo     runWithCache on a model: cached hooks, shapes, residual-stream check, top predictions
           --model <path|hub id>  (default: the bundled tiny GPT-2 fixture)
           --text <string> | --tokens <id,id,...>   --names-filter <regex>   --no-processing
  circuit  prune | eap | acdc: circuit discovery → circuits/<task>/<model>.json (tfjs-lens circuit --help)
  hooks    the hook name → shape table of a model   --model <path|hub id>
  probe    β-VAE anomaly detection on pooled hook activations, with baselines and plots
           --dataset sms_spam|imdb|ag_news|fake_news|all (default all)  --model <alias|hub id|path>
           (default distilbert-mini)  --layer N (0)  --hook q|k|v|z|resid_post|…|<full name> (q)
           --output-dir results/probe  --cache-dir results/cache  --force-reprocess
           --epochs 200  --beta-max 0.3  --latent-dim 64  --seed 0  --max-length 128
           --max-samples 1000 (normal training texts)  --max-test 500  --ppl-samples 40
  probe synthetic   the β × latent grid on synthetic blobs (3 seeds)   --epochs 60  --seed 0
  sae      train | eval a sparse autoencoder on a hook (tfjs-lens sae --help)

common: --json (one JSON object on stdout)   --help`;

async function main(argv: string[]): Promise<number> {
  if (argv[0] === 'circuit') return runCircuitCommand(argv.slice(1));
  if (argv[0] === 'sae') return runSaeCommand(argv.slice(1));
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
      model: { type: 'string' },
      text: { type: 'string' },
      tokens: { type: 'string' },
      'names-filter': { type: 'string' },
      'no-processing': { type: 'boolean', default: false },
      dataset: { type: 'string' },
      layer: { type: 'string' },
      hook: { type: 'string' },
      'output-dir': { type: 'string' },
      'cache-dir': { type: 'string' },
      'force-reprocess': { type: 'boolean', default: false },
      epochs: { type: 'string' },
      'beta-max': { type: 'string' },
      'latent-dim': { type: 'string' },
      seed: { type: 'string' },
      'max-length': { type: 'string' },
      'max-samples': { type: 'string' },
      'max-test': { type: 'string' },
      'ppl-samples': { type: 'string' },
    },
  });
  const cmd = positionals[0];
  if (values.help || cmd === undefined) {
    process.stdout.write(`${USAGE}\n`);
    return cmd === undefined && !values.help ? 2 : 0;
  }
  const common = { json: values.json, model: values.model };
  switch (cmd) {
    case 'demo':
      return runDemo({
        ...common,
        text: values.text,
        tokens: values.tokens,
        namesFilter: values['names-filter'],
        noProcessing: values['no-processing'],
      });
    case 'hooks':
      return runHooks(common);
    case 'probe':
      return runProbe({
        ...common,
        positionals,
        dataset: values.dataset,
        layer: values.layer,
        hook: values.hook,
        outputDir: values['output-dir'],
        cacheDir: values['cache-dir'],
        forceReprocess: values['force-reprocess'],
        epochs: values.epochs,
        betaMax: values['beta-max'],
        latentDim: values['latent-dim'],
        seed: values.seed,
        maxLength: values['max-length'],
        maxSamples: values['max-samples'],
        maxTest: values['max-test'],
        pplSamples: values['ppl-samples'],
      });
    default:
      process.stderr.write(`tfjs-lens: unknown command '${cmd}'\n${USAGE}\n`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    const msg = err instanceof InterpError ? `${err.name}: ${err.message}` : String((err as Error)?.stack ?? err);
    process.stderr.write(`tfjs-lens: ${msg}\n`);
    process.exitCode = 1;
  },
);
