/**
 * The shared command-line layer of the CLI and the examples: option parsing (node:util parseArgs)
 * whose mistakes become one-line {@link "tfjs-lens"!UsageError}s naming the nearest valid option,
 * checked numeric, choice and token-list options, and `runCliMain`, which prints an uncaught error
 * as one line (`<name>: <ErrorName>: <message>`) and sets the exit code (2 usage, 1 otherwise).
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { InterpError, UsageError } from '../errors.js';
import { closeName } from '../utils/nearest.js';

/** The `options` table of node:util `parseArgs`. */
export type CliOptions = NonNullable<ParseArgsConfig['options']>;

/** What {@link parseCliArgs} returns: `parseArgs`' result for these options. */
export type CliArgs<O extends CliOptions, P extends boolean> = ReturnType<typeof parseArgs<{ options: O; allowPositionals: P }>>;

const NEGATIVE_NUMBER = /^-(\d|\.\d)/;

/**
 * `; did you mean 'x'?` when a valid name is close enough to be a likely typo, else ''.
 * @param name What the user typed.
 * @param valid The valid names.
 * @returns The hint, or ''.
 * @category CLI
 */
export function didYouMean(name: string, valid: Iterable<string>): string {
  const best = closeName(name, valid);
  return best === undefined ? '' : `; did you mean '${best}'?`;
}

function unknownOption(command: string, flag: string, options: CliOptions): UsageError {
  const names = Object.keys(options).map((k) => `--${k}`);
  const hint = didYouMean(flag, names) || `; valid options: ${names.join(' ')}`;
  return new UsageError(`${command}: unknown option '${flag}'${hint}`);
}

/**
 * Check the options before parseArgs, so each mistake gets a one-line message with the fix, and
 * join `--lr -1` into `--lr=-1` (parseArgs refuses a value starting with a dash).
 */
function checkedArgs(command: string, argv: readonly string[], options: CliOptions, allowPositionals: boolean): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--') return [...out, ...argv.slice(i)];
    if (!a.startsWith('-') || a === '-' || NEGATIVE_NUMBER.test(a)) {
      if (!allowPositionals) throw new UsageError(`${command}: unexpected argument '${a}'; this command takes only options (--name value)`);
      out.push(a);
      continue;
    }
    const long = a.startsWith('--');
    const eq = a.indexOf('=');
    const key = long ? a.slice(2, eq < 0 ? undefined : eq) : undefined;
    const entry = long
      ? Object.entries(options).find(([k]) => k === key)
      : a.length === 2 ? Object.entries(options).find(([, o]) => o.short === a.slice(1)) : undefined;
    if (entry === undefined) throw unknownOption(command, long ? a.slice(0, eq < 0 ? undefined : eq) : a, options);
    const [name, cfg] = entry;
    if (cfg.type === 'boolean') {
      if (eq >= 0) throw new UsageError(`${command}: --${name} is a switch and takes no value, got '${a}'; write just --${name}`);
      out.push(a);
      continue;
    }
    if (eq >= 0) {
      out.push(a);
      continue;
    }
    const next = argv[i + 1];
    if (next === undefined || next === '--' || (next.startsWith('-') && next !== '-' && !NEGATIVE_NUMBER.test(next))) {
      throw new UsageError(`${command}: option --${name} needs a value (--${name} <value>)${next === undefined ? '' : `, got the option '${next}' after it`}`);
    }
    out.push(`--${name}=${next}`);
    i++;
  }
  return out;
}

/**
 * Parse a command line with node:util `parseArgs`; every mistake becomes one line naming the fix.
 * @param command Command name for messages (`probe`, `sae train`, `examples/01_run_with_cache`).
 * @param argv Arguments after the command name.
 * @param options The option table, as for `parseArgs` (`{ epochs: { type: 'string' } }`).
 * @param opts `allowPositionals` (default false).
 * @returns `{ values, positionals }`, typed as `parseArgs` types them.
 * @throws {@link "tfjs-lens"!UsageError} for an unknown or misspelt option (naming the nearest valid one),
 * a missing value, a value given to a switch, or a positional argument where none is allowed.
 * @example
 * const { values } = parseCliArgs('probe', ['--epoch', '5'], { epochs: { type: 'string' } });
 * // UsageError: probe: unknown option '--epoch'; did you mean '--epochs'?
 * @category CLI
 */
export function parseCliArgs<const O extends CliOptions, const P extends boolean = false>(
  command: string,
  argv: readonly string[],
  options: O,
  opts: { readonly allowPositionals?: P } = {},
): CliArgs<O, P> {
  const allowPositionals = opts.allowPositionals ?? false;
  const args = checkedArgs(command, argv, options, allowPositionals);
  try {
    return parseArgs({ args, options, allowPositionals, strict: true }) as CliArgs<O, P>;
  } catch (err) {
    // checkedArgs catches what parseArgs refuses; this keeps any other refusal to one line.
    const first = (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? '';
    throw new UsageError(`${command}: ${first}`);
  }
}

/** Bounds of an integer option. */
export interface IntBounds<D extends number | undefined> {
  /** Value when the option is absent (`undefined`: the result is undefined too). */
  readonly dflt: D;
  /** Smallest allowed value (inclusive). */
  readonly min?: number;
  /** Largest allowed value (inclusive). */
  readonly max?: number;
}

/** Bounds of a real-valued option. */
export interface FloatBounds<D extends number | undefined> extends IntBounds<D> {
  /** Values must be strictly greater than this (e.g. 0 for a learning rate). */
  readonly exclusiveMin?: number;
}

function rangeText(b: { min?: number | undefined; max?: number | undefined; exclusiveMin?: number | undefined }): string {
  const lo = b.exclusiveMin !== undefined ? `> ${b.exclusiveMin}` : b.min !== undefined ? `≥ ${b.min}` : undefined;
  if (b.exclusiveMin === undefined && b.min !== undefined && b.max !== undefined) return ` in [${b.min}, ${b.max}]`;
  const hi = b.max !== undefined ? `≤ ${b.max}` : undefined;
  return [lo, hi].filter((x) => x !== undefined).length > 0 ? ` ${[lo, hi].filter((x) => x !== undefined).join(' and ')}` : '';
}

function numberIn(command: string, raw: string, name: string, integer: boolean, b: FloatBounds<number | undefined>): number {
  const n = raw.trim() === '' ? NaN : Number(raw);
  const ok = Number.isFinite(n) && (!integer || Number.isInteger(n)) &&
    (b.min === undefined || n >= b.min) && (b.max === undefined || n <= b.max) && (b.exclusiveMin === undefined || n > b.exclusiveMin);
  if (!ok) throw new UsageError(`${command}: --${name} must be ${integer ? 'an integer' : 'a number'}${rangeText(b)}, got '${raw}'`);
  return n;
}

/**
 * An integer option: its value checked against the bounds, or the default when absent.
 * @param command Command name for the message.
 * @param raw Raw option value (`values.epochs`).
 * @param name Option name without dashes.
 * @param b The default and the inclusive bounds.
 * @returns The integer, or `b.dflt` when `raw` is undefined.
 * @throws {@link "tfjs-lens"!UsageError} (one line naming the flag, the value and the range) when the value is not an integer in range.
 * @example intOption('probe', '-5', 'epochs', { dflt: 200, min: 1 })  // UsageError: probe: --epochs must be an integer ≥ 1, got '-5'
 * @category CLI
 */
export function intOption<D extends number | undefined>(command: string, raw: string | undefined, name: string, b: IntBounds<D>): number | D {
  return raw === undefined ? b.dflt : numberIn(command, raw, name, true, b);
}

/**
 * A real-valued option: its value checked against the bounds, or the default when absent.
 * @param command Command name for the message.
 * @param raw Raw option value (`values.lr`).
 * @param name Option name without dashes.
 * @param b The default, inclusive bounds and an optional exclusive lower bound.
 * @returns The number, or `b.dflt` when `raw` is undefined.
 * @throws {@link "tfjs-lens"!UsageError} when the value is not a finite number in range.
 * @example floatOption('sae', '-1', 'lr', { dflt: 3e-4, exclusiveMin: 0 })  // UsageError: sae: --lr must be a number > 0, got '-1'
 * @category CLI
 */
export function floatOption<D extends number | undefined>(command: string, raw: string | undefined, name: string, b: FloatBounds<D>): number | D {
  return raw === undefined ? b.dflt : numberIn(command, raw, name, false, b);
}

/**
 * A choice option: one of a fixed set of strings (aliases map to a canonical value).
 * @param command Command name for the message.
 * @param raw Raw option value.
 * @param name Option name without dashes.
 * @param allowed The valid values.
 * @param dflt Value when absent.
 * @param aliases Other accepted spellings and the value each stands for (`{ fake_news: 'liar' }`).
 * @returns The chosen value.
 * @throws {@link "tfjs-lens"!UsageError} naming the nearest valid value and listing all of them.
 * @example choiceOption('probe', 'lair', 'dataset', ['sms_spam', 'liar'] as const, 'liar')  // UsageError: … did you mean 'liar'? …
 * @category CLI
 */
export function choiceOption<T extends string>(
  command: string, raw: string | undefined, name: string, allowed: readonly T[], dflt: T, aliases: Readonly<Record<string, T>> = {},
): T {
  if (raw === undefined) return dflt;
  if ((allowed as readonly string[]).includes(raw)) return raw as T;
  const alias = Object.hasOwn(aliases, raw) ? aliases[raw] : undefined;
  if (alias !== undefined) return alias;
  const lower = allowed.find((v) => v.toLowerCase() === raw.toLowerCase());
  const hint = lower !== undefined ? `; did you mean '${lower}'?` : didYouMean(raw, allowed);
  throw new UsageError(`${command}: --${name} must be one of ${allowed.join(', ')}, got '${raw}'${hint}`);
}

/**
 * A comma-separated list of token ids (`--tokens 1,2,3`).
 * @param command Command name for the message.
 * @param raw Raw option value.
 * @param name Option name without dashes.
 * @param opts `dVocab`: when given, every id must be in [0, dVocab).
 * @returns The ids, or undefined when `raw` is undefined.
 * @throws {@link "tfjs-lens"!UsageError} for an empty list, an empty item (`1,,2`), a non-integer, or an id outside [0, dVocab).
 * @example tokenListOption('demo', '1,,2', 'tokens')  // UsageError: demo: --tokens item 2 is empty …
 * @category CLI
 */
export function tokenListOption(command: string, raw: string | undefined, name: string, opts: { readonly dVocab?: number } = {}): number[] | undefined {
  if (raw === undefined) return undefined;
  if (raw.trim() === '') throw new UsageError(`${command}: --${name} is empty; pass comma-separated token ids, e.g. --${name} 1,2,3`);
  const items = raw.split(',').map((s) => s.trim());
  const empty = items.findIndex((s) => s === '');
  if (empty >= 0) throw new UsageError(`${command}: --${name} item ${empty + 1} is empty in '${raw}'; pass comma-separated token ids without gaps, e.g. --${name} 1,2,3`);
  const bad = items.find((s) => !/^\d+$/.test(s));
  if (bad !== undefined) throw new UsageError(`${command}: --${name} must be comma-separated non-negative integer token ids, got '${bad}' in '${raw}'`);
  const ids = items.map(Number);
  const dVocab = opts.dVocab;
  const out = dVocab === undefined ? undefined : ids.find((id) => id >= dVocab);
  if (out !== undefined) throw new UsageError(`${command}: --${name} id ${out} is out of range; this model's token ids are in [0, ${dVocab}) (d_vocab ${dVocab})`);
  return ids;
}

/**
 * The one line printed for an uncaught error: `<name>: <ErrorName>: <message>` (newlines in the
 * message folded), plus a short stack when `TFJS_LENS_DEBUG=1`.
 * @param name Program name (`tfjs-lens`).
 * @param err What was thrown.
 * @param env Environment (default `process.env`).
 * @returns The text to print, ending in a newline.
 * @category CLI
 */
export function formatCliError(name: string, err: unknown, env: NodeJS.ProcessEnv = process.env): string {
  const e = err instanceof Error ? err : undefined;
  const kind = e === undefined ? 'Error' : e instanceof InterpError || e.name !== 'Error' ? e.name : 'Error';
  const message = (e?.message ?? String(err)).replace(/\s*\n\s*/g, ' ').trim();
  const line = `${name}: ${kind}: ${message}\n`;
  if (env['TFJS_LENS_DEBUG'] !== '1' || e?.stack === undefined) return line;
  const frames = e.stack.split('\n').filter((l) => /^\s+at /.test(l)).slice(0, 8);
  return `${line}${frames.join('\n')}\n`;
}

/**
 * Run a CLI entry point: its resolved number becomes the exit code; a thrown error is printed as
 * one line on stderr (see {@link formatCliError}) with exit code 2 for a UsageError and 1 otherwise.
 * @param name Program name for the error line (`tfjs-lens`, `examples/03_train_sae`).
 * @param main The program; resolves to its exit code.
 * @returns A promise that settles when `main` has finished and the exit code is set.
 * @example runCliMain('tfjs-lens', () => main(process.argv.slice(2)));
 * @category CLI
 */
export async function runCliMain(name: string, main: () => Promise<number>): Promise<void> {
  try {
    process.exitCode = await main();
  } catch (err) {
    process.stderr.write(formatCliError(name, err));
    process.exitCode = err instanceof UsageError ? 2 : 1;
  }
}
