/**
 * The hub's audit trail of the admin API (`admin_audit`, hub-local, not replicated;
 * docs/security.md "Audit trail"): one row per verified admin request that changed something
 * or was refused. The body is kept as JSON text with every secret replaced by "***" (keys named
 * password, secret, key, claim, ha1…, also inside YAML or JSON text), at most 8 KB of it. The
 * table keeps the newest MAX_AUDIT_ROWS rows: each append drops older ones beyond that.
 */
import type { Database, Statement } from 'better-sqlite3';

export type AuditOutcome = 'ok' | 'refused';

export interface AuditEntry {
  id: number;
  /** When the hub ran the request, ms. */
  at: number;
  /** The verified admin's name. */
  admin: string;
  op: string;
  /** The request's transaction id. */
  tx: string;
  outcome: AuditOutcome;
  /** Empty when ok. */
  problems: string[];
  /** The request body as JSON text, secrets redacted; cut at MAX_AUDIT_BODY bytes (see TRUNCATED). */
  body: string;
}

export interface AuditInput {
  at: number;
  admin: string;
  op: string;
  tx: string;
  outcome: AuditOutcome;
  problems: readonly string[];
  /** The body as the admin sent it; redacted and capped here. */
  body: unknown;
}

export interface AuditQuery {
  admin?: string;
  op?: string;
  /** Only entries at or after this time, ms. */
  since?: number;
  limit: number;
}

/** How many rows the trail keeps (the newest). */
export const MAX_AUDIT_ROWS = 100_000;
/** Largest body kept, bytes of UTF-8 JSON text. */
export const MAX_AUDIT_BODY = 8192;
/** What follows a cut body: ` …(truncated, N bytes)`. */
export const TRUNCATED = '…(truncated';
export const REDACTED = '***';

/** Key names whose values are secrets: password, secret, key, claim, ha1…, and names ending in Password/Secret/Key. */
const SECRET_NAME = /^(?:ha1\w*|claim|\w*(?:password|secret|key))$/i;
/** `name: value` or `"name": value` inside text (a YAML or JSON config document sent as a string). */
const SECRET_IN_TEXT = /(["']?)\b(ha1\w*|claim|\w*(?:password|secret|key))\1(\s*[:=]\s*)("(?:[^"\\\n]|\\.)*"|'[^'\n]*'|[^,}\]\n]*)/gi;

/** `body` with the value of every secret-named key replaced by "***", at any depth. */
export function redactSecrets(value: unknown): unknown {
  if (typeof value === 'string') return value.replace(SECRET_IN_TEXT, (_m, q: string, name: string, sep: string, v: string) => (v.trim() === '' ? _m : `${q}${name}${q}${sep}"${REDACTED}"`));
  if (Array.isArray(value)) return value.map(redactSecrets);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, SECRET_NAME.test(k) ? REDACTED : redactSecrets(v)]));
  }
  return value;
}

/** The body as kept: redacted JSON text, cut at MAX_AUDIT_BODY bytes with a marker. */
export function auditBody(body: unknown): string {
  const text = JSON.stringify(redactSecrets(body)) ?? '';
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= MAX_AUDIT_BODY) return text;
  // A cut through a multi-byte character decodes to U+FFFD: drop it.
  const head = bytes.subarray(0, MAX_AUDIT_BODY).toString('utf8').replace(/\uFFFD+$/, '');
  return `${head}${TRUNCATED}, ${bytes.length} bytes)`;
}

interface Row {
  id: number;
  at: number;
  admin: string;
  op: string;
  tx: string;
  outcome: AuditOutcome;
  problems: string;
  body: string;
}

export class AdminAuditRepository {
  private readonly insert: Statement;
  private readonly pruneStmt: Statement;

  constructor(private readonly db: Database) {
    this.insert = db.prepare('INSERT INTO admin_audit (at, admin, op, tx, outcome, problems, body) VALUES (?, ?, ?, ?, ?, ?, ?)');
    // Ids only grow (AUTOINCREMENT) and rows go only from the oldest end, so the rows with an id
    // above max(id) - keep are at most `keep`: found through the primary key, not a scan.
    this.pruneStmt = db.prepare('DELETE FROM admin_audit WHERE id <= (SELECT max(id) FROM admin_audit) - ?');
  }

  /** Records one request (inside the caller's transaction, if any) and prunes; returns the row id. */
  append(e: AuditInput, keep = MAX_AUDIT_ROWS): number {
    const problems = e.outcome === 'ok' ? '' : JSON.stringify(e.problems);
    const id = Number(this.insert.run(e.at, e.admin, e.op, e.tx, e.outcome, problems, auditBody(e.body)).lastInsertRowid);
    this.prune(keep);
    return id;
  }

  /** Keeps the newest `keep` rows; returns how many were dropped. */
  prune(keep = MAX_AUDIT_ROWS): number {
    return this.pruneStmt.run(keep).changes;
  }

  /** Entries matching the query, newest first. */
  list(q: AuditQuery): AuditEntry[] {
    const where: string[] = [];
    const args: Array<string | number> = [];
    if (q.admin !== undefined) where.push('admin = ?'), args.push(q.admin);
    if (q.op !== undefined) where.push('op = ?'), args.push(q.op);
    if (q.since !== undefined) where.push('at >= ?'), args.push(q.since);
    const sql = `SELECT id, at, admin, op, tx, outcome, problems, body FROM admin_audit ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`;
    const rows = this.db.prepare(sql).all(...args, q.limit) as Row[];
    return rows.map((r) => ({ ...r, problems: r.problems === '' ? [] : (JSON.parse(r.problems) as string[]) }));
  }

  count(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM admin_audit').get() as { n: number }).n;
  }
}
