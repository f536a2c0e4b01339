/**
 * DatasetError: a shipped corpus file is empty or has a malformed row. Kept beside the loaders
 * because `src/errors.ts` was frozen when they were added; it belongs in `src/errors.ts` next to
 * the other classes (same base, same `instanceof` behaviour).
 */
import { InterpError } from '../errors.js';

/**
 * A dataset file is empty, or a row does not parse (wrong field count, unknown label, empty text,
 * bad quoting). The message names the file and the 1-based line.
 * @example
 * try { await loadImdb('train', { dir: 'broken/' }); } catch (e) { if (e instanceof DatasetError) console.error(e.message); }
 * @category Data
 */
export class DatasetError extends InterpError {}
