/**
 * The one error type of the benchmarks and the test harness (bench/, test/helpers, test/
 * integration): a child process that did not start or answer, bad bench options, a scenario
 * that could not run. It is an AgentError (code `harness`), so the agent's error handling and
 * the tests' assertions treat it like every other typed error.
 */
import { AgentError } from '../../agent/lib/errors.ts';

export class HarnessError extends AgentError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('harness', message, options);
  }
}
