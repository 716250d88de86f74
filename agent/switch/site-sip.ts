/**
 * The SIP domain and realm a box serves (docs/config/sip.md, docs/cli/admin.md "Sites"): its
 * site's, from the replicated `sites` row, when the admin set them (`site.create|update`,
 * migration 9), else its config's `sip.domain` / `sip.realm`. refresh() re-reads the row (the
 * node calls it whenever replication merged changes or another connection committed) and sets
 * the authenticator's realm, so a change applies to the next request without a restart.
 */
import type { Logger } from '../lib/logger.ts';
import type { DigestAuthenticator } from '../sip/auth/digest-authenticator.ts';
import type { SiteRepository } from '../store/sites.ts';

export interface SiteSipOptions {
  site: string;
  sites: Pick<SiteRepository, 'get'>;
  /** The config's `sip.domain` and `sip.realm`. */
  configDomain: string;
  configRealm: string | undefined;
  authenticator: Pick<DigestAuthenticator, 'realm' | 'setRealm'>;
  logger: Logger;
}

/** The domain and realm for a site row (or none) over the config's. Pure. */
export function siteSip(row: { domain: string; realm: string } | undefined, configDomain: string, configRealm: string | undefined): { domain: string; realm: string } {
  const domain = row?.domain || configDomain;
  const realm = row?.realm || (row?.domain ? row.domain : undefined) || configRealm || configDomain;
  return { domain, realm };
}

export class SiteSip {
  private current: { domain: string; realm: string };

  constructor(private readonly o: SiteSipOptions) {
    this.current = siteSip(undefined, o.configDomain, o.configRealm);
  }

  get domain(): string {
    return this.current.domain;
  }

  get realm(): string {
    return this.current.realm;
  }

  refresh(): void {
    const next = siteSip(this.o.sites.get(this.o.site), this.o.configDomain, this.o.configRealm);
    if (next.domain === this.current.domain && next.realm === this.current.realm) return;
    try {
      this.o.authenticator.setRealm(next.realm);
    } catch (err) {
      this.o.logger.warn({ site: this.o.site, realm: next.realm, err: (err as Error).message }, 'site realm not usable; keeping the current one');
      return;
    }
    this.o.logger.info({ site: this.o.site, domain: next.domain, realm: next.realm, was: this.current }, 'site SIP domain and realm');
    this.current = next;
  }
}
