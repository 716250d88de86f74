/**
 * A box's side of an update (docs/updates.md), as a pure state machine: an offer names a bundle
 * (version, HTTPS URL at the hub, sha256); the core asks its shell to download it, checks the
 * checksum, asks for `rauc install`, waits for a moment without calls, asks for the reboot, and
 * after the boot reads the health check's verdict: committed, or rolled back when the box came
 * up on the other slot. Every change of state is returned as a `report` action, for the hub.
 * Time comes in with each event (the shell's injected clock).
 */

export type UpdatePhase =
  | 'idle'
  | 'offered'
  | 'downloading'
  | 'installing'
  /** Installed in the other slot; waits for a moment without calls to reboot. */
  | 'installed'
  | 'rebooting'
  | 'committed'
  | 'rolled-back'
  | 'failed';

export interface UpdateOffer {
  readonly version: string;
  /** https://... at the hub (mutual TLS with the node certificate). */
  readonly url: string;
  /** Hex sha256 of the bundle file. */
  readonly sha256: string;
}

export interface UpdateState {
  readonly phase: UpdatePhase;
  /** The version being installed (or last installed, rolled back or failed). */
  readonly version: string | undefined;
  /** The version the box runs. */
  readonly running: string;
  /** The slot the box booted from. */
  readonly slot: string;
  /** The slot the update was installed into. */
  readonly targetSlot: string | undefined;
  readonly offer: UpdateOffer | undefined;
  readonly error: string | undefined;
  /** When the phase began (ms since the epoch). */
  readonly since: number;
}

export type UpdateAction =
  | { readonly kind: 'download'; readonly url: string; readonly sha256: string }
  | { readonly kind: 'install'; readonly file: string }
  | { readonly kind: 'reboot' }
  /** A downloaded bundle no longer needed (installed, refused or failed): up to 200 MB on /data. */
  | { readonly kind: 'discard'; readonly file: string }
  | { readonly kind: 'report'; readonly state: UpdateState };

/** What the box found after a boot: its slot and version, and the health check's outcome there. */
export interface BootFacts {
  readonly slot: string;
  readonly version: string;
  /** outpost-health.service's verdict for this boot: still running, good, or not healthy. */
  readonly health: 'pending' | 'good' | 'unhealthy';
}

export interface UpdatePolicy {
  /** Calls must have been 0 this long before the box reboots into the new slot. */
  readonly quietMs: number;
}

export const DEFAULT_UPDATE_POLICY: UpdatePolicy = { quietMs: 10_000 };

const BUSY: readonly UpdatePhase[] = ['offered', 'downloading', 'installing', 'installed', 'rebooting'];

export class UpdateCore {
  private current: UpdateState;
  private readonly policy: UpdatePolicy;
  private busySince: number | undefined;
  private lastCallAt: number | undefined;
  /** The bundle file being checked or installed. */
  private file: string | undefined;

  /** `saved`: the state persisted before a reboot (or none); `boot`: this boot's facts. */
  constructor(saved: UpdateState | undefined, boot: { slot: string; version: string }, now: number, policy: UpdatePolicy = DEFAULT_UPDATE_POLICY) {
    this.policy = policy;
    this.current = saved
      ? { ...saved, running: boot.version, slot: boot.slot }
      : { phase: 'idle', version: undefined, running: boot.version, slot: boot.slot, targetSlot: undefined, offer: undefined, error: undefined, since: now };
    // A download or install that a reboot or crash cut short: start over at the next offer.
    if (['offered', 'downloading', 'installing', 'installed'].includes(this.current.phase)) {
      this.current = { ...this.current, phase: 'failed', error: `interrupted while ${this.current.phase}`, since: now };
    }
  }

  get state(): UpdateState {
    return this.current;
  }

  get busy(): boolean {
    return BUSY.includes(this.current.phase);
  }

  /** An offer from the hub. Ignored when the box runs that version or is busy with another. */
  offer(offer: UpdateOffer, now: number): UpdateAction[] {
    if (offer.version === this.current.running) return [];
    if (this.busy) return [];
    if (!/^[0-9a-f]{64}$/.test(offer.sha256) || !offer.url.startsWith('https://')) {
      return this.move({ phase: 'failed', version: offer.version, offer, error: 'the offer needs an https URL and a hex sha256' }, now);
    }
    // An offer for a version that already failed or rolled back here is not retried by itself.
    if ((this.current.phase === 'rolled-back' || this.current.phase === 'failed') && this.current.version === offer.version && this.current.offer?.sha256 === offer.sha256) return [];
    return [...this.move({ phase: 'downloading', version: offer.version, offer, error: undefined }, now), { kind: 'download', url: offer.url, sha256: offer.sha256 }];
  }

  /** The download ended: the file and the sha256 the shell computed over what it wrote. */
  downloaded(file: string, sha256: string, now: number): UpdateAction[] {
    if (this.current.phase !== 'downloading' || this.current.offer === undefined) return [];
    if (sha256 !== this.current.offer.sha256) {
      return [...this.move({ phase: 'failed', error: `checksum mismatch: got ${sha256.slice(0, 12)}…, offered ${this.current.offer.sha256.slice(0, 12)}…` }, now), { kind: 'discard', file }];
    }
    this.file = file;
    return [...this.move({ phase: 'installing' }, now), { kind: 'install', file }];
  }

  downloadFailed(error: string, now: number): UpdateAction[] {
    if (this.current.phase !== 'downloading') return [];
    return this.move({ phase: 'failed', error: `download: ${error}` }, now);
  }

  /** `rauc install` ended; `slot` is the slot it wrote. */
  installed(slot: string, now: number): UpdateAction[] {
    if (this.current.phase !== 'installing') return [];
    return [...this.move({ phase: 'installed', targetSlot: slot }, now), ...this.discard(), ...this.tryReboot(now)];
  }

  installFailed(error: string, now: number): UpdateAction[] {
    if (this.current.phase !== 'installing') return [];
    return [...this.move({ phase: 'failed', error: `install: ${error}` }, now), ...this.discard()];
  }

  /** The number of active calls, sampled by the shell (and on each change). */
  calls(active: number, now: number): UpdateAction[] {
    if (active > 0) {
      this.lastCallAt = now;
      this.busySince ??= now;
      return [];
    }
    if (this.busySince !== undefined) this.lastCallAt = now; // the last call just ended
    this.busySince = undefined;
    return this.current.phase === 'installed' ? this.tryReboot(now) : [];
  }

  /** A tick without news (the shell's timer): a quiet moment may have come. */
  tick(now: number): UpdateAction[] {
    return this.current.phase === 'installed' && this.busySince === undefined ? this.tryReboot(now) : [];
  }

  /** After a boot: the health check's verdict decides between committed and rolled back. */
  booted(facts: BootFacts, now: number): UpdateAction[] {
    if (this.current.phase !== 'rebooting') return [];
    const target = this.current.version;
    if (facts.version === target && facts.slot === this.current.targetSlot) {
      if (facts.health === 'good') return this.move({ phase: 'committed', running: facts.version, error: undefined }, now);
      if (facts.health === 'unhealthy') return this.move({ phase: 'failed', running: facts.version, error: 'the new slot is not healthy and there is no slot to fall back to' }, now);
      return [];
    }
    return this.move({ phase: 'rolled-back', running: facts.version, slot: facts.slot, error: `slot ${this.current.targetSlot} (${target}) failed its health check; back on slot ${facts.slot} (${facts.version})` }, now);
  }

  /** The slot holds the image now (or the install failed): the bundle file goes. */
  private discard(): UpdateAction[] {
    const file = this.file;
    this.file = undefined;
    return file === undefined ? [] : [{ kind: 'discard', file }];
  }

  private tryReboot(now: number): UpdateAction[] {
    if (this.busySince !== undefined) return [];
    if (this.lastCallAt !== undefined && now - this.lastCallAt < this.policy.quietMs) return [];
    return [...this.move({ phase: 'rebooting' }, now), { kind: 'reboot' }];
  }

  private move(change: Partial<UpdateState>, now: number): UpdateAction[] {
    this.current = { ...this.current, ...change, since: now };
    return [{ kind: 'report', state: this.current }];
  }
}
