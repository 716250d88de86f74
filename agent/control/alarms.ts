/**
 * Alarms (AlarmSchema, agent/wire/telemetry.ts): conditions an operator should look at, derived
 * from replication's counters and status at each sample. `alarmConditions` says what holds now;
 * AlarmTracker keeps when each began (`since`) while it keeps holding. Counters only grow, so an
 * alarm from a counter (rejected changes, key problems) holds until the process restarts.
 */
import type { Alarm } from '../wire/telemetry.ts';
import type { SyncStatus } from '../sync/sync-status.ts';

export type AlarmCondition = Omit<Alarm, 'since'>;

export interface AlarmSources {
  /** Replication's snapshot; undefined on a standalone box. */
  sync: SyncStatus | undefined;
  /** The box has a `hub` section. */
  hubConfigured: boolean;
  revoked: boolean;
  /** Why the status page is not served (its default port was busy). */
  httpUnavailable?: string;
}

export function alarmConditions(s: AlarmSources): AlarmCondition[] {
  const out: AlarmCondition[] = [];
  if (s.revoked) out.push({ code: 'node.revoked', severity: 'critical', message: "this box's certificate is revoked: re-enrol it (docs/security.md)" });
  if (s.httpUnavailable) out.push({ code: 'http.unavailable', severity: 'warning', message: cut(`status page not served (${s.httpUnavailable}): set http.listen`) });
  const sync = s.sync;
  if (!sync) return out;
  const c = sync.counters;
  if (c.changesRejected > 0) {
    const by = Object.entries(c.rejectedBy).map(([node, n]) => `${node}: ${n}`).join(', ');
    out.push({ code: 'sync.rejected-change', severity: 'warning', message: cut(`${c.changesRejected} replicated changes rejected since start${by ? ` (${by})` : ''}`) });
  }
  const keyProblems = c.keyMismatches + c.badSignature + (c.identityRefused ?? 0);
  if (keyProblems > 0) {
    out.push({ code: 'sync.key-problem', severity: 'critical', message: cut(`key problems since start: ${c.keyMismatches} key mismatches, ${c.badSignature} bad signatures, ${c.identityRefused ?? 0} refused identities`) });
  }
  if (s.hubConfigured) {
    const hub = sync.links.find((l) => l.name === 'hub');
    if (hub && !hub.connected) out.push({ code: 'hub.unreachable', severity: 'critical', message: cut(`hub link ${hub.url} is down`) });
  }
  for (const p of sync.liveness ?? []) {
    if (p.state === 'down') out.push({ code: 'peer.down', severity: 'warning', message: cut(`site peer ${p.nodeId} is down`) });
  }
  return out;
}

function cut(text: string): string {
  return text.length > 300 ? `${text.slice(0, 297)}...` : text;
}

/** Keeps the start of each condition (by code and message subject) while it holds. */
export class AlarmTracker {
  #since = new Map<string, number>();

  update(conditions: AlarmCondition[], now: number): Alarm[] {
    const next = new Map<string, number>();
    const out = conditions.map((c) => {
      // The message of a counter alarm changes as the count grows: key those by code alone.
      const key = c.code === 'peer.down' || c.code === 'hub.unreachable' ? `${c.code} ${c.message}` : c.code;
      const since = this.#since.get(key) ?? now;
      next.set(key, since);
      return { ...c, since };
    });
    this.#since = next;
    return out.slice(0, 64);
  }
}
