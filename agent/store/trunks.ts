/**
 * SIP trunks (admin-owned CRR rows, site-scoped like routes): a peer that a `trunk` route of
 * the dial plan names by id, reached without registration or authentication (a gateway that
 * trusts the box by its address), with a codec preference order. Also the checks the CLI makes
 * on what it writes here.
 */
import { isIP } from 'node:net';
import type { Database, Statement } from 'better-sqlite3';
import type { CodecName } from '../config/codec-names.ts';
import { decodeCodecs, encodeCodecs } from './users.ts';

export const TRUNK_TRANSPORTS = ['udp', 'tcp'] as const;

export type TrunkTransport = (typeof TRUNK_TRANSPORTS)[number];

export interface TrunkRecord {
  /** What a route's `target` names. */
  id: string;
  /** An IP address (IPv6 without brackets) or a DNS name. */
  host: string;
  port: number;
  transport: TrunkTransport;
  /** Codec preference order, most preferred first; [] = the box default (`rtp.codecs`). */
  codecs: CodecName[];
  /** The site whose boxes get the trunk; '' = every site. */
  site: string;
  enabled: boolean;
}

interface TrunkRow {
  id: string;
  host: string;
  port: number;
  transport: string;
  codecs: string;
  site: string;
  enabled: number;
}

/**
 * A row as a record, or undefined when its transport is not one this build can use (written by
 * a newer build or by hand): such a trunk is treated as absent rather than guessed at.
 */
function toRecord(r: TrunkRow): TrunkRecord | undefined {
  if (!isTrunkTransport(r.transport)) return undefined;
  return { id: r.id, host: r.host, port: r.port, transport: r.transport, codecs: decodeCodecs(r.codecs), site: r.site, enabled: r.enabled !== 0 };
}

const COLUMNS = 'id, host, port, transport, codecs, site, enabled';

export class TrunkRepository {
  private readonly getStmt: Statement<[string], TrunkRow>;
  private readonly listStmt: Statement<[], TrunkRow>;
  private readonly upsertStmt: Statement;
  private readonly removeStmt: Statement<[string]>;

  constructor(db: Database) {
    this.getStmt = db.prepare(`SELECT ${COLUMNS} FROM trunks WHERE id = ?`);
    this.listStmt = db.prepare(`SELECT ${COLUMNS} FROM trunks ORDER BY id`);
    this.upsertStmt = db.prepare(`INSERT INTO trunks (id, host, port, transport, codecs, site, enabled, created_at, updated_at)
      VALUES (@id, @host, @port, @transport, @codecs, @site, @enabled, @now, @now)
      ON CONFLICT (id) DO UPDATE SET host = excluded.host, port = excluded.port, transport = excluded.transport,
      codecs = excluded.codecs, site = excluded.site, enabled = excluded.enabled, updated_at = excluded.updated_at`);
    this.removeStmt = db.prepare('DELETE FROM trunks WHERE id = ?');
  }

  /** The trunk with this id; undefined when there is none (or its transport is unknown here). */
  get(id: string): TrunkRecord | undefined {
    const row = this.getStmt.get(id);
    return row ? toRecord(row) : undefined;
  }

  /** Every trunk this build can use, by id. */
  list(): TrunkRecord[] {
    const out: TrunkRecord[] = [];
    for (const row of this.listStmt.all()) {
      const t = toRecord(row);
      if (t) out.push(t);
    }
    return out;
  }

  /** Inserts a trunk or replaces every column of an existing one; `now` is the write time in ms. */
  upsert(trunk: TrunkRecord, now: number): void {
    this.upsertStmt.run({
      id: trunk.id,
      host: trunk.host,
      port: trunk.port,
      transport: trunk.transport,
      codecs: encodeCodecs(trunk.codecs),
      site: trunk.site,
      enabled: trunk.enabled ? 1 : 0,
      now,
    });
  }

  /** Removes a trunk; returns false when there was none. */
  remove(id: string): boolean {
    return this.removeStmt.run(id).changes > 0;
  }
}

/**
 * A trunk id: 1-64 letters, digits, `_`, `.` or `-`, starting with a letter or digit. Route ids
 * are not checked at all (any text; a UUIDv7 by default); trunk ids are typed as a route's
 * `--target`, so they are kept to what needs no quoting. A UUID fits.
 */
export function isTrunkId(id: string): boolean {
  return /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(id);
}

/**
 * A trunk host: an IPv4 address, an IPv6 address without brackets, or a DNS name (labels of
 * letters, digits and inner hyphens, at most 253 characters, no trailing dot). No scheme, port,
 * user part or spaces. A name whose last label is all digits must be an IPv4 address.
 */
export function isTrunkHost(host: string): boolean {
  if (isIP(host) !== 0) return true;
  if (host.length === 0 || host.length > 253) return false;
  const labels = host.split('.');
  if (!labels.every((l) => /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/.test(l))) return false;
  return !/^[0-9]+$/.test(labels[labels.length - 1]!);
}

/** A port 1-65535 written as plain digits; undefined otherwise. */
export function parseTrunkPort(text: string): number | undefined {
  if (!/^[0-9]{1,5}$/.test(text)) return undefined;
  const port = Number(text);
  return port >= 1 && port <= 65535 ? port : undefined;
}

export function isTrunkTransport(s: string): s is TrunkTransport {
  return (TRUNK_TRANSPORTS as readonly string[]).includes(s);
}
