/**
 * What each box made of its desired config (`config_reports`, node-owned CRR rows; one per
 * box, written by that box; docs/config-push.md). The JSON columns are decoded here.
 */
import type { Database, Statement } from 'better-sqlite3';

/** Versions of the documents a box overlays, by scope kind; absent: no document. */
export interface ScopeVersions {
  fleet?: number;
  site?: number;
  node?: number;
}

export interface ConfigReport {
  nodeId: string;
  /** The versions in the config the box runs (its last good one). */
  applied: ScopeVersions;
  /** The versions the box holds now (what it last tried). */
  desired: ScopeVersions;
  /** Keys whose new value takes effect at the next restart. */
  pendingRestart: string[];
  /** Why the last change was refused (empty: it was applied). */
  problems: string[];
  reportedAt: number;
}

interface ReportRow {
  node_id: string;
  applied: string;
  desired: string;
  pending_restart: string;
  problems: string;
  reported_at: number;
}

function decode<T>(text: string, fallback: T): T {
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}

const toReport = (r: ReportRow): ConfigReport => ({
  nodeId: r.node_id,
  applied: decode(r.applied, {}),
  desired: decode(r.desired, {}),
  pendingRestart: decode(r.pending_restart, []),
  problems: decode(r.problems, []),
  reportedAt: r.reported_at,
});

export class ConfigReportRepository {
  private readonly byNode: Statement;
  private readonly upsertStmt: Statement;

  constructor(private readonly db: Database) {
    this.byNode = db.prepare('SELECT * FROM config_reports WHERE node_id = ?');
    this.upsertStmt = db.prepare(
      `INSERT INTO config_reports (node_id, applied, desired, pending_restart, problems, reported_at)
       VALUES (@nodeId, @applied, @desired, @pendingRestart, @problems, @reportedAt)
       ON CONFLICT (node_id) DO UPDATE SET applied = excluded.applied, desired = excluded.desired,
         pending_restart = excluded.pending_restart, problems = excluded.problems, reported_at = excluded.reported_at`,
    );
  }

  get(nodeId: string): ConfigReport | undefined {
    const r = this.byNode.get(nodeId) as ReportRow | undefined;
    return r && toReport(r);
  }

  /** Records a box's report; one equal to the stored one (time aside) is not rewritten. */
  put(report: ConfigReport): boolean {
    const cur = this.get(report.nodeId);
    const same = (a: ConfigReport) => JSON.stringify({ ...a, reportedAt: 0 }) === JSON.stringify({ ...report, reportedAt: 0 });
    if (cur && same(cur)) return false;
    this.upsertStmt.run({
      nodeId: report.nodeId,
      applied: JSON.stringify(report.applied),
      desired: JSON.stringify(report.desired),
      pendingRestart: JSON.stringify(report.pendingRestart),
      problems: JSON.stringify(report.problems),
      reportedAt: report.reportedAt,
    });
    return true;
  }

  list(): ConfigReport[] {
    return (this.db.prepare('SELECT * FROM config_reports ORDER BY node_id').all() as ReportRow[]).map(toReport);
  }
}
