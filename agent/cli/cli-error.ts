import { AgentError } from '../lib/errors.ts';

/** Bad command-line usage or a refused CLI action; printed as one line, exit code 1. */
export class CliError extends AgentError {
  constructor(message: string) {
    super('cli.usage', message);
  }
}
