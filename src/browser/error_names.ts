/**
 * The error classes keep their names in the minified bundle: {@link "tfjs-lens"!InterpError} names
 * each error after its class (`new.target.name`), which minification would shorten. esbuild's
 * `keepNames` cannot be used: it breaks tfjs-backend-wasm's threaded build, whose worker runs the
 * stringified source of a bundled function.
 */
import * as errors from '../errors.js';

for (const [name, value] of Object.entries(errors)) {
  if (typeof value === 'function') Object.defineProperty(value, 'name', { value: name, configurable: true });
}
