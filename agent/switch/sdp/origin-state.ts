/**
 * The o= line the box writes on one call leg. The box is the SDP author towards each party
 * (the party never sees the other leg's o= line), so each leg keeps its own origin:
 *
 * - username 'outpost', a session id chosen once per leg, address fixed at the first SDP;
 * - the version starts at `firstVersion` and goes up by exactly one each time the SDP sent on
 *   the leg differs from the previous one, offers and answers alike (RFC 3264 §8: "the version
 *   in the origin field MUST increment by one"); an unchanged SDP sent again (session refresh
 *   re-INVITE, answer repeated in a reliable provisional and the 2xx) keeps its version, since
 *   RFC 3264 §8 reads a non-incremented version as "the SDP is identical".
 *
 * One OriginState belongs to one leg of one call; it holds the last body it stamped.
 */
import { randomInt } from 'node:crypto';

export interface OriginOptions {
  /** Decimal digits (RFC 4566 §5.2 sess-id); random when absent. */
  sessionId?: string;
  /** Version of the first SDP sent on the leg; default 1. */
  firstVersion?: number;
}

/** The fields of one o= line. */
export interface OriginLine {
  username: string;
  sessionId: string;
  version: number;
  address: string;
}

const DIGITS = /^\d{1,19}$/;

export class OriginState {
  readonly username = 'outpost';
  readonly sessionId: string;
  private readonly firstVersion: number;
  private version: number | undefined;
  private address: string | undefined;
  private lastBody: string | undefined;

  constructor(options: OriginOptions = {}) {
    const sessionId = options.sessionId ?? String(randomInt(1, 2 ** 47));
    const firstVersion = options.firstVersion ?? 1;
    if (!DIGITS.test(sessionId)) throw new RangeError('o= session id must be decimal digits');
    if (!Number.isSafeInteger(firstVersion) || firstVersion < 0) throw new RangeError('o= version must be a non-negative integer');
    this.sessionId = sessionId;
    this.firstVersion = firstVersion;
  }

  /** The version of the last SDP stamped, undefined before the first. */
  get currentVersion(): number | undefined {
    return this.version;
  }

  /**
   * The o= line for an SDP about to be sent on this leg. `body` is that SDP written without its
   * o= line (any stable text of it will do); `address` is the relay's address on the leg, used
   * the first time only so the line stays identical apart from the version.
   */
  stamp(body: string, address: string): OriginLine {
    if (this.version === undefined) {
      this.version = this.firstVersion;
      this.address = address;
    } else if (body !== this.lastBody) {
      this.version += 1;
    }
    this.lastBody = body;
    return { username: this.username, sessionId: this.sessionId, version: this.version, address: this.address ?? address };
  }
}
