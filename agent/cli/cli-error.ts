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

/**
 * A valid config that this host cannot carry out (a folder that cannot be made, an address
 * that cannot be bound), restated at the CLI boundary in terms of the key that asked for it:
 * `config error: dataDir /srv/x/data in /etc/outpost.yaml: cannot create it: /srv/x is a file, not a folder`.
 * Exit code 1, like other runtime failures: the file itself is valid.
 */
export class ConfigUseError extends AgentError {
  readonly key: string;

  constructor(key: string, value: string, file: string | undefined, reason: string, options?: { cause?: unknown }) {
    super('cli.config-use', `config error: ${key} ${value}${file === undefined ? '' : ` in ${file}`}: ${reason}`, options);
    this.key = key;
  }
}
