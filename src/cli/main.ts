#!/usr/bin/env node
/**
 * tfjs-lens command line: per-command option tables (checked by `parseCliArgs`: an unknown flag is a
 * one-line UsageError naming the nearest one) and dispatch; wiring only. Every command takes --json
 * and then prints one JSON object on stdout. Errors print as one line (`runCliMain`). Commands are
 * imported once chosen, so a mistyped command line fails fast, before tfjs loads.
 */
import { UsageError } from '../errors.js';
import { didYouMean, parseCliArgs, runCliMain, type CliOptions } from './cli_args.js';

const USAGE = `usage: tfjs-lens <command> [options]

commands:
  demo     runWithCache on a model: cached hooks, shapes, residual-stream check, top predictions
           --model <alias|path|hub id>  (default: llama-mini, the shipped text-trained Llama-architecture LM)
           --text <string> | --tokens <id,id,...>   --names-filter <regex>   --no-processing
  circuit  prune | eap | acdc: circuit discovery → circuits/<task>/<model>.json (tfjs-lens circuit --help)
  finetune fine-tune a sequence classifier (full | head | lora; ce | weighted | focal; k-fold) on a text CSV
           (--data, e.g. sms_spam) or a tabular CSV textualised (--tabular --schema) → results/finetune/<name>
           (tfjs-lens finetune --help)
  classify labels and probabilities from a classifier folder, base + --adapter, or a finetune output folder
           --model <folder> [--adapter <dir>] --text "…" | --data <csv>   (tfjs-lens classify --help)
  hooks    the hook name → shape table of a model   --model <alias|path|hub id> (default llama-mini)
  probe    β-VAE anomaly detection on pooled hook activations, with baselines and plots
           --dataset sms_spam|imdb|ag_news|liar|all (default all)  --model <alias|hub id|path>
           (default distilbert-mini)  --layer N (0)  --hook q|k|v|z|resid_post|…|<full name> (q)
           --output-dir results/probe  --cache-dir .cache/probe-features  --force-reprocess
           --epochs 60  --beta-max 0.3  --latent-dim 64  --seed 0  --seeds 3  --max-length 128 (≤ n_ctx)
           --max-samples 1000 (normal training texts)  --max-dev 300  --max-test 500  --ppl-samples 40
  probe synthetic   the β × latent grid on synthetic blobs (3 seeds)   --epochs 60  --seed 0  --output-dir
  sae      train | eval a sparse autoencoder on a hook (tfjs-lens sae --help)
  bench tabular   our anomaly detectors vs scikit-learn's on the 19 ADBench sets (ROC-AUC, PR-AUC, 3 seeds)
           [--datasets a,b] [--seeds 0,1,2] [--detectors …] [--out results/adbench]   (tfjs-lens bench --help)

common: --json (one JSON object on stdout)   --help
Hub models (gpt2, EleutherAI/pythia-70m, …) need the network once; shipped ones (llama-mini,
induction-2l, distilbert-mini) work offline. TFJS_LENS_DEBUG=1 adds a stack to error lines.`;

const COMMON = {
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
  model: { type: 'string' },
} as const satisfies CliOptions;

const DEMO_OPTIONS = {
  ...COMMON, text: { type: 'string' }, tokens: { type: 'string' }, 'names-filter': { type: 'string' }, 'no-processing': { type: 'boolean', default: false },
} as const satisfies CliOptions;

const PROBE_OPTIONS = {
  ...COMMON, dataset: { type: 'string' }, layer: { type: 'string' }, hook: { type: 'string' }, 'output-dir': { type: 'string' },
  'cache-dir': { type: 'string' }, 'force-reprocess': { type: 'boolean', default: false }, epochs: { type: 'string' },
  'beta-max': { type: 'string' }, 'latent-dim': { type: 'string' }, seed: { type: 'string' }, 'max-length': { type: 'string' },
  'max-samples': { type: 'string' }, 'max-test': { type: 'string' }, 'ppl-samples': { type: 'string' },
  seeds: { type: 'string' }, 'max-dev': { type: 'string' },
} as const satisfies CliOptions;

const COMMANDS = ['demo', 'hooks', 'probe', 'sae', 'circuit', 'finetune', 'classify', 'bench'] as const;

function usage(code: number): number {
  process.stdout.write(`${USAGE}\n`);
  return code;
}

async function main(argv: readonly string[]): Promise<number> {
  const first = argv[0];
  if (first === undefined) return usage(2);
  if (first === '--help' || first === '-h') return usage(0);
  // `tfjs-lens --json demo` as well as `tfjs-lens demo --json`: the command is the first known command name.
  const at = (COMMANDS as readonly string[]).includes(first) ? 0 : argv.findIndex((a) => (COMMANDS as readonly string[]).includes(a));
  if (at < 0 || (at > 0 && !first.startsWith('-'))) {
    const cmd = first.startsWith('-') ? argv.find((a) => !a.startsWith('-')) ?? first : first;
    const hint = didYouMean(cmd, COMMANDS) || `; commands: ${COMMANDS.join(', ')} (tfjs-lens --help)`;
    throw new UsageError(`unknown command '${cmd}'${hint}`);
  }
  const cmd = argv[at] as (typeof COMMANDS)[number];
  const rest = [...argv.slice(0, at), ...argv.slice(at + 1)];
  switch (cmd) {
    case 'circuit':
      return (await import('./commands/circuit.js')).runCircuitCommand(rest);
    case 'sae':
      return (await import('./commands/sae.js')).runSaeCommand(rest);
    case 'finetune':
      return (await import('./commands/finetune.js')).runFinetuneCommand(rest);
    case 'classify':
      return (await import('./commands/classify.js')).runClassifyCommand(rest);
    case 'bench':
      return (await import('./commands/bench_tabular.js')).runBenchCommand(rest);
    case 'demo': {
      const { values: v } = parseCliArgs('demo', rest, DEMO_OPTIONS);
      if (v.help) return usage(0);
      const { runDemo } = await import('./commands/demo.js');
      return runDemo({ json: v.json, model: v.model, text: v.text, tokens: v.tokens, namesFilter: v['names-filter'], noProcessing: v['no-processing'] });
    }
    case 'hooks': {
      const { values: v } = parseCliArgs('hooks', rest, COMMON);
      if (v.help) return usage(0);
      const { runHooks } = await import('./commands/hooks.js');
      return runHooks({ json: v.json, model: v.model });
    }
    case 'probe': {
      const { values: v, positionals } = parseCliArgs('probe', rest, PROBE_OPTIONS, { allowPositionals: true });
      if (v.help) return usage(0);
      const { runProbe } = await import('./commands/probe.js');
      return runProbe({
        json: v.json, model: v.model, positionals: ['probe', ...positionals], dataset: v.dataset, layer: v.layer, hook: v.hook,
        outputDir: v['output-dir'], cacheDir: v['cache-dir'], forceReprocess: v['force-reprocess'], epochs: v.epochs,
        betaMax: v['beta-max'], latentDim: v['latent-dim'], seed: v.seed, maxLength: v['max-length'], maxSamples: v['max-samples'],
        maxTest: v['max-test'], pplSamples: v['ppl-samples'], seeds: v.seeds, maxDev: v['max-dev'],
      });
    }
  }
}

void runCliMain('tfjs-lens', () => main(process.argv.slice(2)));
