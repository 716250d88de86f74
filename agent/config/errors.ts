import { AgentError } from '../lib/errors.ts';

export interface ConfigProblem {
  /** Dotted key path, e.g. `sip.listen[0]`; empty for the whole file. */
  key: string;
  reason: string;
}

/** A config file that cannot be read or does not validate; names the file and every bad key. */
export class ConfigError extends AgentError {
  readonly file: string;
  readonly problems: ConfigProblem[];

  constructor(file: string, problems: ConfigProblem[], options?: { cause?: unknown }) {
    const first = problems[0];
    const head = first ? `${first.key ? `${first.key}: ` : ''}${first.reason}` : 'invalid';
    const more = problems.length > 1 ? ` (and ${problems.length - 1} more problem${problems.length > 2 ? 's' : ''})` : '';
    super('config.invalid', `config error in ${file}: ${head}${more}`, options);
    this.file = file;
    this.problems = problems;
  }

  /** Every problem, one line each, for terminals and admin replies. */
  describe(): string {
    return this.problems.map((p) => `${this.file}: ${p.key || '(file)'}: ${p.reason}`).join('\n');
  }
}
