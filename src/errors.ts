/**
 * Typed errors for tfjs-lens. Every throw in src/ uses one of these classes so callers can
 * catch by class (`err instanceof WeightLoadError`) and tests can check class + message.
 * Pattern from tfjs-layers `errors.ts` (setPrototypeOf keeps `instanceof` working).
 */

/** Base class of every error tfjs-lens throws. @category Errors */
export class InterpError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
    Object.setPrototypeOf(this, new.target.prototype);
  }
}

/** A model, tokenizer or run configuration is invalid or unsupported. @category Errors */
export class ConfigError extends InterpError {}

/**
 * A command line is malformed: an unknown command or option, a missing value, or a value out of
 * range. The message is one line naming the option and the fix; the CLI exits with code 2. A kind of
 * ConfigError, so code that catches bad options as ConfigError keeps working.
 * @category Errors
 */
export class UsageError extends ConfigError {}

/** A tensor or array has the wrong rank, shape or dtype. @category Errors */
export class ShapeError extends InterpError {}

/** An unknown hook name, or a hook that is disabled for this model/run. @category Errors */
export class HookNameError extends InterpError {}

/**
 * A hook broke the hook contract, or hooks were used in a way that cannot be scoped to one run. A
 * hook that disposes its input, returns a disposed tensor, or returns a tensor of another shape or
 * dtype than its activation (the message names the hook, its point, and expected vs got); a run or
 * hook change while an async `withHooks` body is pending on the model.
 * @category Errors
 */
export class HookError extends InterpError {}

/** A checkpoint cannot be mapped to model parameters (missing/unexpected tensors, bad shapes). @category Errors */
export class WeightLoadError extends InterpError {}

/** A safetensors file is malformed (header, dtype, offsets). @category Errors */
export class SafetensorsError extends WeightLoadError {}

/** A download from the model hub failed (HTTP status, truncated body, network). @category Errors */
export class HubError extends InterpError {
  constructor(
    message: string,
    /** HTTP status, when the server answered. */
    readonly status?: number,
  ) {
    super(message);
  }
}

/** A file that is required is not available locally (offline mode or missing cache entry). @category Errors */
export class NotFoundError extends InterpError {}

/** Tokenizer files are missing or malformed, or a string does not tokenize as required. @category Errors */
export class TokenizerError extends InterpError {}

/** An object was used after `dispose()`. @category Errors */
export class DisposedError extends InterpError {}

/** A tfjs backend could not be initialised. @category Errors */
export class BackendError extends InterpError {}

/**
 * A run would not fit in backend memory (e.g. the 4 GB wasm heap), or the backend ran out of memory
 * and produced invalid results. The message says how to cache or batch less.
 * @category Errors
 */
export class MemoryLimitError extends InterpError {}

/**
 * A dataset file is empty, or a row does not parse (wrong field count, unknown label, empty text,
 * bad quoting), or data handed to a probe is unusable. The message names the file and line.
 * @category Errors
 */
export class DatasetError extends InterpError {}
