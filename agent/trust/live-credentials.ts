/**
 * The node's TLS credentials while it runs (docs/enrolment.md "Renewal"): what the SIP TLS
 * listener and inter-box TLS, the embedded broker, the MQTT links and the announced state use.
 * A renewal (certificate-renewer.ts on a box, hub-renewer.ts on the hub) replaces them with
 * replace()/reload(); every part that subscribed with onChange() then takes the new key and
 * certificate without a restart. The one "credentials changed" event of the process.
 */
import type { Logger } from '../lib/logger.ts';
import { readCredentials, type Credentials } from './credentials.ts';
import { TrustError } from './errors.ts';
import { parseCertificate } from './identity.ts';

export type CredentialsListener = (credentials: Credentials) => void;

export class LiveCredentials {
  #current: Credentials;
  readonly #listeners = new Set<CredentialsListener>();

  constructor(initial: Credentials, private readonly logger?: Logger) {
    this.#current = initial;
  }

  /** The credentials in use now. */
  get current(): Credentials {
    return this.#current;
  }

  /** Calls `listener` with each new set of credentials; returns the unsubscribe. */
  onChange(listener: CredentialsListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Uses `next` from now on and tells every subscriber. The new certificate must name the same
   * node, site and role (a renewal never changes who a node is): TrustError otherwise.
   */
  replace(next: Credentials): void {
    const was = parseCertificate(this.#current.cert);
    const now = parseCertificate(next.cert);
    if (now.nodeId !== was.nodeId || now.site !== was.site || now.role !== was.role) {
      throw new TrustError('trust.certificate', `the new certificate names ${now.role} ${now.nodeId} of site '${now.site}', not ${was.role} ${was.nodeId} of site '${was.site}'`);
    }
    this.#current = next;
    for (const listener of [...this.#listeners]) {
      try {
        listener(next);
      } catch (err) {
        this.logger?.error({ err: (err as Error).message }, 'a part failed to take the renewed certificate');
      }
    }
    this.logger?.info({ serial: now.serial, parts: this.#listeners.size }, 'renewed certificate in use');
  }

  /** replace() with the files of `dataDir` (credentials.ts), as a renewal wrote them. */
  reload(dataDir: string): void {
    this.replace(readCredentials(dataDir));
  }
}
