/**
 * Versioned schema migrations, applied in order, each in its own transaction. Applied versions
 * are recorded in the local (non-replicated) table `local_migrations`. A migration is never
 * edited after it shipped: add a new one.
 */
import type { Database } from 'better-sqlite3';
import { usersAndRegistrations } from './001-users-registrations.ts';
import { calls } from './002-calls.ts';
import { sync } from './003-sync.ts';
import { userCodecs } from './004-user-codecs.ts';
import { trunks } from './005-trunks.ts';
import { nodeRekeys } from './006-node-rekeys.ts';
import { cdrLinks } from './007-cdr-links.ts';
import { nodeRevocations } from './008-node-revocations.ts';
import { siteDomains } from './009-site-domains.ts';
import { desiredConfig } from './010-desired-config.ts';
import { updateOffers } from './011-update-offers.ts';
import { adminAudit } from './012-admin-audit.ts';

export interface Migration {
  version: number;
  name: string;
  up(db: Database): void;
  /**
   * Creates or changes only tables that are not replicated (no CRR): the replication schema
   * (SCHEMA_VERSION) stays the one before it, so the batches of a store that has it stay
   * readable by replicas that do not.
   */
  localOnly?: true;
}

export const MIGRATIONS: readonly Migration[] = [usersAndRegistrations, calls, sync, userCodecs, trunks, nodeRekeys, cdrLinks, nodeRevocations, siteDomains, desiredConfig, updateOffers, adminAudit];

/** The store's schema version: its newest migration (`local_migrations`, `outpost status`). */
export const STORE_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

/**
 * The replication schema this build writes, carried in every batch and node state: the newest
 * migration that changes replicated tables. A replica keeps batches of a newer one until it is
 * upgraded (docs/replication.md), so a local-only migration must not raise it.
 */
export const SCHEMA_VERSION = [...MIGRATIONS].reverse().find((m) => !m.localOnly)!.version;
