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

/**
 * A socket that could not be bound, with the address as it was asked for: one port, or the
 * port range of the RTP relay. Thrown (or carried as the `cause` of a layer's own error) where
 * sockets bind; the code that binds does not know which config key named the address, the CLI
 * does (agent/cli/node-command.ts).
 */
export class BindError extends AgentError {
  readonly protocol: 'udp' | 'tcp';
  readonly host: string;
  /** [port, port] for one port; [lo, hi] for a range. */
  readonly ports: readonly [number, number];
  /** The OS error code (EADDRINUSE, EADDRNOTAVAIL, EACCES, ...), when there is one. */
  readonly errno: string | undefined;
  /** Short and for people: "address in use". */
  readonly reason: string;

  constructor(protocol: 'udp' | 'tcp', host: string, ports: number | readonly [number, number], cause: unknown, reason = bindFailureReason(cause)) {
    const range: readonly [number, number] = typeof ports === 'number' ? [ports, ports] : ports;
    const where = `${protocol}:${host.includes(':') ? `[${host}]` : host}:${range[0] === range[1] ? range[0] : `${range[0]}-${range[1]}`}`;
    super('bind.failed', `cannot listen on ${where}: ${reason}`, { cause });
    this.protocol = protocol;
    this.host = host;
    this.ports = range;
    this.errno = cause instanceof BindError ? cause.errno : (cause as NodeJS.ErrnoException | undefined)?.code;
    this.reason = reason;
  }
}

/** A short reason for a failed bind or listen: "address in use" rather than "listen EADDRINUSE: ...". */
export function bindFailureReason(err: unknown): string {
  if (err instanceof BindError) return err.reason;
  switch ((err as NodeJS.ErrnoException | undefined)?.code) {
    case 'EADDRINUSE': return 'address in use';
    case 'EACCES': return 'permission denied';
    case 'EADDRNOTAVAIL': return 'address not available on this host';
    case 'ENOTFOUND': return 'host not found';
    default: return err instanceof Error ? err.message : String(err);
  }
}

/** The first error of type `type` in `err` and its chain of causes. */
export function findCause<T extends Error>(err: unknown, type: abstract new (...args: never[]) => T): T | undefined {
  for (let e = err, depth = 0; e instanceof Error && depth < 10; e = e.cause, depth++) {
    if (e instanceof type) return e;
  }
  return undefined;
}
