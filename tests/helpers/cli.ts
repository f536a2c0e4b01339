/** Running the CLI (src/cli/main.ts through tsx) in a child process, as the CLI tests do. */
import { spawn } from 'node:child_process';

/** Exit code and output of one CLI run. */
export interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Run `tfjs-lens <args>` from the sources.
 * @param args Command-line arguments.
 * @param env The child's environment (default: this process's).
 */
export function runCli(args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<CliRun> {
  return new Promise((done, fail) => {
    const p = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    p.on('error', fail);
    p.on('close', (code) => done({ code, stdout, stderr }));
  });
}
