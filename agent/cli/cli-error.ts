import { AgentError } from '../lib/errors.ts';

/** Bad command-line usage or a refused CLI action; printed as one line, exit code 1. */
export class CliError extends AgentError {
  constructor(message: string) {
    super('cli.usage', message);
  }
}

/**
 * `outpost status` of a box or hub whose process does not run: the report is printed all the
 * same, then this one line, and the exit code is 3 (as the LSB `status` action of an init
 * script: "program is not running"), so scripts can test it.
 */
export class NotRunningError extends AgentError {
  static readonly EXIT_CODE = 3;

  constructor(message: string) {
    super('cli.not-running', message);
  }
}
