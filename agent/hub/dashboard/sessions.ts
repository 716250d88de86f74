/**
 * Logins of the dashboard: sessions (a random token in an HttpOnly, SameSite=Strict cookie,
 * kept in memory, so a restart of the hub logs everyone out) and the limit on failed logins
 * per source address. Time comes from the injected clock.
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

/** At most `max` failed logins per source address within `windowMs`; a success does not reset it. */
export class LoginLimiter {
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly clock: Clock,
    private readonly max: number,
    private readonly windowMs: number,
  ) {}

  /** Milliseconds until `source` may try again, or 0 when it may now. */
  retryAfter(source: string): number {
    const recent = this.recent(source);
    if (recent.length < this.max) return 0;
    return Math.max(1, recent[0]! + this.windowMs - this.clock.now());
  }

  fail(source: string): void {
    const recent = this.recent(source);
    recent.push(this.clock.now());
    this.failures.set(source, recent);
    if (this.failures.size > 10_000) this.failures.delete(this.failures.keys().next().value!);
  }

  private recent(source: string): number[] {
    const since = this.clock.now() - this.windowMs;
    const list = (this.failures.get(source) ?? []).filter((t) => t > since);
    if (list.length === 0) this.failures.delete(source);
    return list;
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
