/**
 * A child process that runs `outpost` command lines one after another for the docs examples
 * test (test/integration/docs-cli-examples.test.ts): the CLI's main(), as bin/outpost.js runs it,
 * with stdout and stderr captured, so that the agent is loaded once and not once per command.
 * Started with an IPC channel: each message {args, cwd} is answered with {code, stdout, stderr}.
 * Long-running commands (`node`, `hub`) are not run here but as their own processes.
 */
import { main } from '../../agent/cli/main.ts';

export interface RunRequest {
  args: string[];
  cwd: string;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Starts a runner: `node --import tsx test/helpers/docs-cli-runner.ts` with an IPC channel. */
export const RUNNER_FILE = import.meta.filename;

async function run(req: RunRequest): Promise<RunResult> {
  const result: RunResult = { code: 0, stdout: '', stderr: '' };
  const writeOut = process.stdout.write;
  const writeErr = process.stderr.write;
  process.stdout.write = ((chunk: string | Uint8Array) => ((result.stdout += chunk.toString()), true)) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array) => ((result.stderr += chunk.toString()), true)) as typeof process.stderr.write;
  try {
    process.chdir(req.cwd);
    result.code = await main([process.execPath, 'outpost', ...req.args]);
  } finally {
    process.stdout.write = writeOut;
    process.stderr.write = writeErr;
  }
  return result;
}

if (process.send !== undefined && process.argv[1] === RUNNER_FILE) {
  process.stdout.setMaxListeners(0); // main() adds its EPIPE listener on every run
  let queue = Promise.resolve();
  process.on('message', (req: RunRequest) => {
    queue = queue.then(async () => void process.send!(await run(req)));
  });
}
