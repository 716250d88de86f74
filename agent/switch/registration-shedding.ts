/**
 * Load shedding at the registrar's door (issue 11 item 4, docs/config/sip-registrar.md): when
 * the box is overloaded, a REGISTER is answered at once with 503 and a Retry-After spread at
 * random over `retryAfter` seconds (RFC 3261 §21.5.4, §20.33), instead of being left to time
 * out while the box catches up; the phones then come back spread out rather than all at once
 * (the "stampeding herd" of a dead box's phones). Pure: the load and the random source come in.
 *
 * Overloaded: the event loop lags more than `shedLag` ms (averaged over the last second), or
 * `shedPending` REGISTERs are waiting for their write to commit. Then a REGISTER without
 * credentials (a phone starting over at this box) is refused; one with credentials (it answers
 * our challenge, or refreshes) still goes through, so the work already started completes.
 * Twice over either limit, every REGISTER is refused.
 */

export interface SheddingConfig {
  /** Mean event-loop lag (ms) above which new registrations are refused. */
  shedLag: number;
  /** REGISTERs waiting for their commit at or above which new registrations are refused. */
  shedPending: number;
  /** The Retry-After range, seconds: [min, max], both included. */
  retryAfter: readonly [number, number];
}

export interface RegistrarLoad {
  /** Mean event-loop lag over the last second, ms. */
  lagMs: number;
  /** REGISTERs accepted and waiting for their write to commit. */
  pending: number;
}

export type ShedDecision = { shed: false } | { shed: true; retryAfter: number; why: 'lag' | 'pending' };

export class RegistrationShedding {
  /** `random`: uniform in [0, 1), like Math.random (a fixed sequence in tests). */
  constructor(
    private readonly config: SheddingConfig,
    private readonly random: () => number = Math.random,
  ) {}

  /** Whether a REGISTER (with or without credentials) is refused under `load`, and for how long. */
  decide(load: RegistrarLoad, hasCredentials: boolean): ShedDecision {
    const { shedLag, shedPending } = this.config;
    const why = load.pending >= shedPending ? 'pending' : load.lagMs > shedLag ? 'lag' : undefined;
    if (why === undefined) return { shed: false };
    const severe = load.pending >= 2 * shedPending || load.lagMs > 2 * shedLag;
    if (hasCredentials && !severe) return { shed: false };
    return { shed: true, retryAfter: this.retryAfter(), why };
  }

  /** Whole seconds, uniform over the configured range. */
  private retryAfter(): number {
    const [min, max] = this.config.retryAfter;
    const r = Math.min(Math.max(this.random(), 0), 0.999_999_999);
    return min + Math.floor(r * (max - min + 1));
  }
}
