/**
 * The hub renews its own certificate (its broker's server certificate, its enrolment HTTPS and
 * its links) with its own CA before it expires (docs/enrolment.md "Renewal"): the same renewal
 * window as a box (`renewal.window`, renewal-schedule.ts), on the injected Clock. A new key and
 * certificate for the same identity are written to its data directory (credentials.ts) and handed
 * to `live` (live-credentials.ts), so every part takes them without a restart. start()/stop()
 * own its one timer.
 */
import { createPrivateKey } from 'node:crypto';
import type { Clock, TimerHandle } from '../lib/clock.ts';
import type { Logger } from '../lib/logger.ts';
import { BACKDATE_MS, type CertificateAuthority } from './ca.ts';
import { newTlsKey, writeCredentials } from './credentials.ts';
import { parseCertificate } from './identity.ts';
import type { LiveCredentials } from './live-credentials.ts';
import { issuedValidity, nextRenewalStep, retryDelay, type RenewalPolicy } from './renewal-schedule.ts';
import { spkiOfKey } from './x509.ts';

export interface HubRenewerOptions {
  ca: CertificateAuthority;
  dataDir: string;
  live: LiveCredentials;
  /** Validity of the new certificate, ms; its names (`ca.serverNames`). */
  validityMs: number;
  serverNames: readonly string[];
  policy: RenewalPolicy;
  clock: Clock;
  logger: Logger;
}

/** setTimeout's longest delay; a longer wait is taken in steps. */
const MAX_DELAY = 2_147_483_647;

export class HubRenewer {
  #timer: TimerHandle | undefined;
  #stopped = true;
  #failures = 0;
  #lastFailureAt: number | undefined;
  /** Renewals since start. */
  renewed = 0;

  constructor(private readonly o: HubRenewerOptions) {}

  start(): void {
    this.#stopped = false;
    this.#schedule();
  }

  stop(): void {
    this.#stopped = true;
    this.o.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #schedule(): void {
    if (this.#stopped) return;
    const facts = parseCertificate(this.o.live.current.cert);
    const now = this.o.clock.now();
    const validity = issuedValidity(facts.notBefore.getTime(), facts.notAfter.getTime(), BACKDATE_MS);
    // An expired hub certificate is renewed too: the CA is here, nobody needs to vouch for it.
    const step = now < validity.notAfter
      ? nextRenewalStep(validity, now, this.o.policy, this.#failures, this.#lastFailureAt)
      : this.#lastFailureAt === undefined || now >= this.#lastFailureAt + retryDelay(this.#failures, this.o.policy)
        ? { kind: 'renew' as const }
        : { kind: 'wait' as const, at: this.#lastFailureAt + retryDelay(this.#failures, this.o.policy) };
    if (step.kind === 'wait') {
      this.#timer = this.o.clock.setTimeout(() => this.#schedule(), Math.min(MAX_DELAY, Math.max(0, step.at - now)));
      return;
    }
    void this.#renew(facts.serial);
  }

  async #renew(old: string): Promise<void> {
    try {
      const current = parseCertificate(this.o.live.current.cert);
      const key = newTlsKey();
      const cert = await this.o.ca.issue({
        identity: { nodeId: current.nodeId, site: current.site, role: current.role, nodeKey: current.nodeKey },
        publicKey: spkiOfKey(createPrivateKey(key)),
        validityMs: this.o.validityMs,
        serverNames: this.o.serverNames,
      });
      const credentials = { key, cert, ca: this.o.ca.certificatePem };
      writeCredentials(this.o.dataDir, credentials);
      this.o.live.replace(credentials);
      this.#failures = 0;
      this.#lastFailureAt = undefined;
      this.renewed++;
      const renewed = parseCertificate(cert);
      this.o.logger.info({ old, serial: renewed.serial, until: renewed.notAfter.toISOString() }, 'hub certificate renewed');
    } catch (err) {
      this.#failures++;
      this.#lastFailureAt = this.o.clock.now();
      this.o.logger.error({ serial: old, failures: this.#failures, err: (err as Error).message }, 'hub certificate renewal failed');
    }
    this.#schedule();
  }
}
