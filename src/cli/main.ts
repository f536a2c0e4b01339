#!/usr/bin/env node
/**
 * tfjs-lens command line: argument parsing (node:util parseArgs) and dispatch; wiring only.
 * Every command takes --json and then prints one JSON object on stdout.
 */
import { parseArgs } from 'node:util';
import { InterpError } from '../errors.js';
import { runDemo } from './commands/demo.js';
import { runHooks } from './commands/hooks.js';

const USAGE = `usage: tfjs-lens <command> [options]

commands:
  demo     runWithCache on a model: cached hooks, shapes, residual-stream check, top predictions
           --model <path|hub id>  (default: the bundled tiny GPT-2 fixture)
           --text <string> | --tokens <id,id,...>   --names-filter <regex>   --no-processing
  hooks    the hook name → shape table of a model   --model <path|hub id>

common: --json (one JSON object on stdout)   --help`;

async function main(argv: string[]): Promise<number> {
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
