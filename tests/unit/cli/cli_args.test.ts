/** The shared CLI layer: one-line UsageErrors naming the fix, checked numbers and token lists, the error line. */
import { describe, expect, it } from 'vitest';
import { floatOption, formatCliError, intOption, parseCliArgs, tokenListOption, choiceOption } from '../../../src/cli/cli_args.js';
import { ConfigError, HookNameError, UsageError } from '../../../src/errors.js';

const OPTS = { epochs: { type: 'string' }, lr: { type: 'string' }, json: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h' } } as const;

describe('parseCliArgs', () => {
  it('parses like parseArgs, and joins a negative value to its option', () => {
    const { values, positionals } = parseCliArgs('t', ['run', '--epochs', '3', '--lr', '-1', '--json'], OPTS, { allowPositionals: true });
    expect(values).toEqual({ epochs: '3', lr: '-1', json: true });
    expect(positionals).toEqual(['run']);
  });

  it('unknown, misspelt, valueless and unexpected arguments → one-line UsageError with the fix', () => {
    expect(() => parseCliArgs('t', ['--epoch', '3'], OPTS)).toThrow(/^t: unknown option '--epoch'; did you mean '--epochs'\?$/);
    expect(() => parseCliArgs('t', ['--zzzzzz'], OPTS)).toThrow(/unknown option '--zzzzzz'; valid options: --epochs --lr --json --help/);
    expect(() => parseCliArgs('t', ['-x'], OPTS)).toThrow(UsageError);
    expect(() => parseCliArgs('t', ['--epochs'], OPTS)).toThrow(/option --epochs needs a value \(--epochs <value>\)/);
    expect(() => parseCliArgs('t', ['--epochs', '--json'], OPTS)).toThrow(/needs a value .*got the option '--json' after it/);
    expect(() => parseCliArgs('t', ['--json=yes'], OPTS)).toThrow(/--json is a switch and takes no value/);
    expect(() => parseCliArgs('t', ['stray'], OPTS)).toThrow(/unexpected argument 'stray'/);
    const err = (() => {
      try {
        parseCliArgs('t', ['--epoch'], OPTS);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(ConfigError); // a UsageError is a ConfigError
  });
});

describe('numeric, choice and token-list options', () => {
  it('name the flag, the value and the range', () => {
    expect(intOption('p', undefined, 'epochs', { dflt: 200, min: 1 })).toBe(200);
    expect(intOption('p', '7', 'epochs', { dflt: 200, min: 1 })).toBe(7);
    expect(() => intOption('p', '-5', 'epochs', { dflt: 200, min: 1 })).toThrow(/^p: --epochs must be an integer ≥ 1, got '-5'$/);
    expect(() => intOption('p', '2.5', 'layer', { dflt: 0, min: 0, max: 3 })).toThrow(/--layer must be an integer in \[0, 3\], got '2\.5'/);
    expect(() => intOption('p', '', 'seed', { dflt: 0, min: 0 })).toThrow(/--seed must be an integer ≥ 0, got ''/);
    expect(floatOption('s', '1e-3', 'lr', { dflt: 3e-4, exclusiveMin: 0 })).toBe(1e-3);
    expect(() => floatOption('s', '0', 'lr', { dflt: 3e-4, exclusiveMin: 0 })).toThrow(/--lr must be a number > 0, got '0'/);
    expect(() => floatOption('s', 'abc', 'beta', { dflt: 1, min: 0, max: 1 })).toThrow(/--beta must be a number in \[0, 1\], got 'abc'/);
    expect(choiceOption('p', 'fake_news', 'dataset', ['liar', 'imdb'] as const, 'imdb', { fake_news: 'liar' })).toBe('liar');
    expect(() => choiceOption('p', 'lair', 'dataset', ['liar', 'imdb'] as const, 'imdb')).toThrow(/got 'lair'; did you mean 'liar'\?/);
  });

  it('token lists refuse empty strings, empty items, non-integers and ids outside [0, d_vocab)', () => {
    expect(tokenListOption('d', undefined, 'tokens')).toBeUndefined();
    expect(tokenListOption('d', '1, 2,3', 'tokens', { dVocab: 10 })).toEqual([1, 2, 3]);
    expect(() => tokenListOption('d', '', 'tokens')).toThrow(/--tokens is empty/);
    expect(() => tokenListOption('d', '1,,2', 'tokens')).toThrow(/item 2 is empty/);
    expect(() => tokenListOption('d', '1,-2', 'tokens')).toThrow(/got '-2'/);
    expect(() => tokenListOption('d', '1,2.5', 'tokens')).toThrow(/got '2\.5'/);
    expect(() => tokenListOption('d', '1,10', 'tokens', { dVocab: 10 })).toThrow(/id 10 is out of range; this model's token ids are in \[0, 10\)/);
  });
});

describe('formatCliError', () => {
  it('one line, class name first; a short stack only with TFJS_LENS_DEBUG=1', () => {
    const e = new HookNameError('run: unknown hook\nsecond line');
    expect(formatCliError('tfjs-lens', e, {})).toBe('tfjs-lens: HookNameError: run: unknown hook second line\n');
    expect(formatCliError('tfjs-lens', new TypeError('bad'), {})).toBe('tfjs-lens: TypeError: bad\n');
    expect(formatCliError('x', 'plain', {})).toBe('x: Error: plain\n');
    const debug = formatCliError('tfjs-lens', e, { TFJS_LENS_DEBUG: '1' }).trimEnd().split('\n');
    expect(debug.length).toBeGreaterThan(1);
    expect(debug.length).toBeLessThanOrEqual(9);
    expect(debug.slice(1).every((l) => /^\s+at /.test(l))).toBe(true);
  });
});
