/**
 * Child process for the killed-download test: downloads `argv[3]` from the hub at `argv[2]` into
 * the cache `argv[4]` and prints `started` when it begins; the parent kills it mid-download.
 */
import { resolveModelDir } from '../../src/io/hub.js';

const [endpoint = '', repo = '', cacheDir = ''] = process.argv.slice(2);
process.stdout.write('started\n');
await resolveModelDir(repo, { endpoint, cacheDir, offline: false, quiet: true, timeoutMs: 60_000 });
process.stdout.write('finished\n');
