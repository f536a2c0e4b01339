/** The alias table resolves shipped models to package folders and refuses missing ones clearly. */
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { NotFoundError } from '../../../src/errors.js';
import { MODEL_ALIASES, resolveAlias } from '../../../src/model/aliases.js';

describe('model aliases', () => {
  it('maps shipped names to folders, hub names to themselves, and passes paths through', () => {
    expect(resolveAlias('distilbert-mini')).toMatch(/models\/distilbert-mini$/);
    expect(existsSync(resolveAlias('distilbert-mini'))).toBe(true);
    expect(resolveAlias('gpt2')).toBe('gpt2');
    expect(resolveAlias('some/other-model')).toBe('some/other-model');
    expect(Object.keys(MODEL_ALIASES)).toContain('induction-2l');
  });

  it('a shipped alias whose folder is missing gives NotFoundError naming the training script', () => {
    if (existsSync('models/induction-2l/config.json')) return;
    expect(() => resolveAlias('induction-2l')).toThrow(NotFoundError);
    expect(() => resolveAlias('induction-2l')).toThrow(/train_induction/);
  });
});
