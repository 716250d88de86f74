/**
 * Flood protection at the transport edge: a token bucket per source IP, and a ban after
 * repeated authentication failures. Bans are rows of the `bans` table (they replicate to the
 * site later), mirrored in memory so the per-packet check is one Map look-up. A banned or
 * rate-limited source gets no response at all, unless the packet is vouched for: a request a
 * peer box of the site signed (switch/calls/peer-vouch.ts), asked only of a packet about to be
 * dropped, so a peer's calls are never throttled or banned while the rest of its address's
 * traffic still is.
 */
import type { Clock, TimerHandle } from '../lib/clock.ts';
import type { Logger } from '../lib/logger.ts';
import type { Config } from '../config/schema.ts';
import type { Store } from '../store/store.ts';

type FloodConfig = Config['sip']['flood'];

interface Bucket {
  tokens: number;
  last: number;
}

export interface FloodStats {
  rateLimited: number;
  bannedDrops: number;
  bansIssued: number;
  /** Packets let through although rate-limited or banned, because a site peer signed them. */
  vouched: number;
}

export class FloodGuard {
  private readonly buckets = new Map<string, Bucket>();
  private readonly failures = new Map<string, number[]>();
  private readonly banned = new Map<string, number>();
  private trusted: Set<string>;
  private timer: TimerHandle | undefined;
  readonly stats: FloodStats = { rateLimited: 0, bannedDrops: 0, bansIssued: 0, vouched: 0 };

  constructor(
    private readonly config: FloodConfig,
    private readonly deps: { clock: Clock; store: Store; nodeId: string; logger: Logger },
  ) {
    this.trusted = new Set(config.trusted);
  }

  /** Live config (docs/config-push.md): new rates, ban rules and trusted addresses apply to the next packet. */
  reconfigure(section: FloodConfig): void {
    Object.assign(this.config, section);
    this.trusted = new Set(section.trusted);
  }

  start(): void {
    this.reloadBans();
    this.schedule();
  }

  stop(): void {
    this.deps.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Per-packet admission: false means drop silently. `vouched` is asked only before a drop. */
  admit(ip: string, vouched?: () => boolean): boolean {
    if (this.trusted.has(ip)) return true;
    const now = this.deps.clock.now();
    const until = this.banned.get(ip);
    if (until !== undefined) {
      if (until > now) {
        if (this.vouchedFor(vouched)) return true;
        this.stats.bannedDrops++;
        return false;
      }
      this.banned.delete(ip);
    }
    const { perSecond, burst } = this.config.rateLimit;
    let bucket = this.buckets.get(ip);
    if (!bucket) {
      bucket = { tokens: burst, last: now };
      this.buckets.set(ip, bucket);
    } else {
      bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.last) * perSecond) / 1000);
      bucket.last = now;
    }
    if (bucket.tokens < 1) {
      if (this.vouchedFor(vouched)) return true;
      this.stats.rateLimited++;
      return false;
    }
    bucket.tokens -= 1;
    return true;
  }

  private vouchedFor(vouched: (() => boolean) | undefined): boolean {
    if (!vouched?.()) return false;
    this.stats.vouched++;
    return true;
  }

  isBanned(ip: string): boolean {
    const until = this.banned.get(ip);
    return until !== undefined && until > this.deps.clock.now();
  }

  /** Records a failed authentication (bad password, unknown user); bans at the threshold. */
  recordAuthFailure(ip: string): void {
    if (this.trusted.has(ip)) return;
    const now = this.deps.clock.now();
    const windowMs = this.config.ban.window * 1000;
    const recent = (this.failures.get(ip) ?? []).filter((t) => now - t < windowMs);
    recent.push(now);
    if (recent.length < this.config.ban.failures) {
      this.failures.set(ip, recent);
      return;
    }
    this.failures.delete(ip);
    const until = now + this.config.ban.duration * 1000;
    this.banned.set(ip, until);
    this.stats.bansIssued++;
    const reason = `${recent.length} authentication failures in ${this.config.ban.window}s`;
    this.deps.logger.warn({ ip, until: new Date(until).toISOString(), reason }, 'source banned');
    this.deps.store.writes
      .submit(() => this.deps.store.bans.upsert({ ip, nodeId: this.deps.nodeId, reason, until, createdAt: now }))
      .catch((err: Error) => this.deps.logger.error({ ip, err: err.message }, 'cannot store ban'));
  }

  /** Re-reads bans from the store (including bans other nodes wrote). */
  reloadBans(): void {
    const now = this.deps.clock.now();
    this.banned.clear();
    for (const ban of this.deps.store.bans.active(now)) {
      if (!this.trusted.has(ban.ip)) this.banned.set(ban.ip, Math.max(ban.until, this.banned.get(ban.ip) ?? 0));
    }
  }

  private schedule(): void {
    this.timer = this.deps.clock.setTimeout(() => {
      this.housekeeping();
      this.schedule();
    }, 10_000);
  }

  /** Drops idle buckets and stale failure counts so the maps stay bounded. */
  private housekeeping(): void {
    const now = this.deps.clock.now();
    const { perSecond, burst } = this.config.rateLimit;
    const refillMs = (burst / perSecond) * 1000;
    for (const [ip, b] of this.buckets) if (now - b.last > refillMs) this.buckets.delete(ip);
    const windowMs = this.config.ban.window * 1000;
    for (const [ip, times] of this.failures) if (times.every((t) => now - t >= windowMs)) this.failures.delete(ip);
    this.reloadBans();
  }
}
