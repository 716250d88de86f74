/**
 * A box's renewal loop (docs/enrolment.md "Renewal"): a thin shell on the injected Clock around
 * nextRenewalStep (renewal-schedule.ts) and renewCertificate (renew-client.ts). It reads the
 * installed certificate, sleeps until the renewal window opens, asks the hub, retries with
 * backoff, and tells `onRenewed` about a new certificate and `live` (live-credentials.ts) to take
 * it, so the running node serves and presents it at once. start()/stop() own its one timer.
 */
import type { Clock, TimerHandle } from '../lib/clock.ts';
import type { Logger } from '../lib/logger.ts';
import { readCredentials } from './credentials.ts';
import type { NodeKeySigner } from './enrol-client.ts';
import { parseCertificate, type CertificateFacts } from './identity.ts';
import type { LiveCredentials } from './live-credentials.ts';
import { renewCertificate } from './renew-client.ts';
import { issuedValidity, nextRenewalStep, type RenewalPolicy } from './renewal-schedule.ts';
import { BACKDATE_MS } from './ca.ts';

export interface CertificateRenewerOptions {
  dataDir: string;
  hubUrl: string;
  nodeKey: NodeKeySigner;
  policy: RenewalPolicy;
  clock: Clock;
  logger: Logger;
  onRenewed?: (facts: CertificateFacts) => void;
  /** The credentials the running node uses: reloaded from the renewed files. */
  live?: LiveCredentials;
  /** The exchange with the hub (tests may point it elsewhere); default renewCertificate. */
  renew?: typeof renewCertificate;
}

/** setTimeout's longest delay; a longer wait is taken in steps. */
const MAX_DELAY = 2_147_483_647;

export class CertificateRenewer {
  private timer: TimerHandle | undefined;
  private failures = 0;
  private lastFailureAt: number | undefined;
  private stopped = true;
  private expiredLogged = false;
  /** Renewals completed since start. */
  renewed = 0;

  constructor(private readonly o: CertificateRenewerOptions) {}

  start(): void {
    this.stopped = false;
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    this.o.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(): void {
    if (this.stopped) return;
    const facts = parseCertificate(readCredentials(this.o.dataDir).cert);
    const now = this.o.clock.now();
    const validity = issuedValidity(facts.notBefore.getTime(), facts.notAfter.getTime(), BACKDATE_MS);
    const step = nextRenewalStep(validity, now, this.o.policy, this.failures, this.lastFailureAt);
    if (step.kind === 'expired') {
      if (!this.expiredLogged) this.o.logger.error({ serial: facts.serial, notAfter: facts.notAfter.toISOString() }, 'certificate expired: renewal impossible; enrol again (outpost node replace at the hub)');
      this.expiredLogged = true;
      return;
    }
    if (step.kind === 'renew') return void this.attempt(facts);
    this.timer = this.o.clock.setTimeout(() => this.schedule(), Math.min(MAX_DELAY, Math.max(0, step.at - now)));
  }

  private async attempt(current: CertificateFacts): Promise<void> {
    try {
      const facts = await (this.o.renew ?? renewCertificate)({ hubUrl: this.o.hubUrl, dataDir: this.o.dataDir, nodeKey: this.o.nodeKey });
      this.failures = 0;
      this.lastFailureAt = undefined;
      this.renewed++;
      this.o.logger.info({ old: current.serial, serial: facts.serial, until: facts.notAfter.toISOString() }, 'certificate renewed');
      this.o.live?.reload(this.o.dataDir);
      this.o.onRenewed?.(facts);
    } catch (err) {
      this.failures++;
      this.lastFailureAt = this.o.clock.now();
      this.o.logger.warn({ serial: current.serial, failures: this.failures, err: (err as Error).message }, 'certificate renewal failed');
    }
    this.schedule();
  }
}
