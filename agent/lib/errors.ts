/**
 * The one error base of the agent. Every layer derives its own errors from AgentError with a
 * stable `code`, so callers branch on codes, never on message text.
 */
export class AgentError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** True when `err` is an AgentError carrying `code`. */
export function hasCode(err: unknown, code: string): boolean {
  return err instanceof AgentError && err.code === code;
}
