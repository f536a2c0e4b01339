/**
 * Progress for long patching sweeps: an optional callback, plus a throttled line on stderr once a
 * sweep has run for more than a second (off with `quiet: true` or `TFJS_LENS_QUIET=1`).
 */

/** Progress options shared by the sweeps. @category Patching */
export interface ProgressOptions {
  /** Called after every forward pass with the number of patched runs done and the total. */
  readonly onProgress?: (done: number, total: number) => void;
  /** Never print progress on stderr. */
  readonly quiet?: boolean;
}

/**
 * Reports progress of one sweep; call {@link SweepProgress.tick} after each batch, then `end`.
 * @example
 * const p = new SweepProgress('patching z', rows.length, opts);
 * try { for (...) { run(); p.tick(k); } } finally { p.end(); }
 * @category Patching
 */
export class SweepProgress {
  private done = 0;
  private readonly start = Date.now();
  private lastPrint = 0;
  private printed = false;
  private readonly print: boolean;

  /**
   * @param label Shown on stderr, e.g. `patching blocks.*.attn.hook_z`.
   * @param total Number of patched runs.
   * @param opts Callback / quiet.
   */
  constructor(
    private readonly label: string,
    private readonly total: number,
    private readonly opts: ProgressOptions,
  ) {
    this.print = opts.quiet !== true && process.env['TFJS_LENS_QUIET'] !== '1';
  }

  /** Record `n` more finished runs. */
  tick(n: number): void {
    this.done += n;
    this.opts.onProgress?.(this.done, this.total);
    if (!this.print) return;
    const now = Date.now();
    if (now - this.start < 1000 || now - this.lastPrint < 500) return;
    this.lastPrint = now;
    this.write(false);
  }

  /** Finish the line if anything was printed. */
  end(): void {
    if (this.printed) this.write(true);
  }

  private write(final: boolean): void {
    const secs = ((Date.now() - this.start) / 1000).toFixed(1);
    const line = `${this.label}: ${this.done}/${this.total} runs (${secs} s)`;
    const tty = process.stderr.isTTY === true;
    if (tty) process.stderr.write(`\r${line}${final ? '\n' : ''}`);
    else if (final || !this.printed) process.stderr.write(`${line}${final ? '' : ' …'}\n`);
    this.printed = true;
  }
}
