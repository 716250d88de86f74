/**
 * Logins of the dashboard: sessions (a random token in an HttpOnly, SameSite=Strict cookie,
 * kept in memory, so a restart of the hub logs everyone out). Failed logins are limited per
 * source address by the enrolment's FailureLimiter (agent/trust/failure-limiter.ts). Time comes
 * from the injected clock.
 */
import { randomBytes } from 'node:crypto';
import type { Clock } from '../../lib/clock.ts';

export const COOKIE = 'outpost_session';

interface Session {
  user: string;
  expires: number;
}

export class Sessions {
  private readonly sessions = new Map<string, Session>();

  constructor(
    private readonly clock: Clock,
    private readonly ttlMs: number,
  ) {}

  create(user: string): string {
    this.sweep();
    const token = randomBytes(32).toString('base64url');
    this.sessions.set(token, { user, expires: this.clock.now() + this.ttlMs });
    return token;
  }

  /** The user of a valid token, or undefined. */
  userOf(token: string | undefined): string | undefined {
    if (!token) return undefined;
    const s = this.sessions.get(token);
    if (!s) return undefined;
    if (s.expires <= this.clock.now()) {
      this.sessions.delete(token);
      return undefined;
    }
    return s.user;
  }

  end(token: string | undefined): void {
    if (token) this.sessions.delete(token);
  }

  get size(): number {
    return this.sessions.size;
  }

  private sweep(): void {
    const now = this.clock.now();
    for (const [t, s] of this.sessions) if (s.expires <= now) this.sessions.delete(t);
  }
}

/** The value of cookie `name` in a Cookie header. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
