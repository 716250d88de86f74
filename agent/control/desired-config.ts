/**
 * The hub's side of config push (docs/config-push.md), for the admin ops `config.set` and
 * `config.status` and for `outpost config status`: set the desired document of the fleet, a
 * site or a node, and compare what is desired with what each box reports.
 */
import { parse as parseYaml } from 'yaml';
import type { Clock } from '../lib/clock.ts';
import type { Store } from '../store/store.ts';
import { documentProblems, scopeKey, scopesOfBox, type DesiredScope } from '../config/config-overlay.ts';
import type { ScopeVersions } from '../config/config-plan.ts';

export type SetDesiredResult = { ok: true; version: number } | { ok: false; problems: string[] };

/**
 * Validates `document` (an object of config sections, or its YAML/JSON text) and, when it is
 * valid, writes it as the next version of the scope's document. Nothing is written otherwise. The
 * document replaces the scope's previous one whole (an empty one `{}` clears the scope).
 * `actor` names who set it (an admin's name, `cli`).
 */
export function setDesired(store: Store, scope: DesiredScope, document: unknown, actor: string, clock: Pick<Clock, 'now'> = Date): SetDesiredResult {
  let doc = document;
  if (typeof doc === 'string') {
    try {
      doc = doc.trim() === '' ? {} : parseYaml(doc);
    } catch (err) {
      return { ok: false, problems: [`(document): not YAML or JSON: ${(err as Error).message.split('\n')[0]}`] };
    }
  }
  const problems = documentProblems(doc);
  let site = '';
  if (scope.kind === 'site') {
    site = scope.id;
    if (!store.sites.get(scope.id) && !store.nodes.list().some((n) => n.site === scope.id)) problems.push(`(scope): no site ${scope.id} known to this hub (no site row, no box)`);
  } else if (scope.kind === 'node') {
    // A node's document travels on its site's stream (docs/config-push.md): the node must be known.
    const node = store.nodes.get(scope.id);
    if (!node || node.role !== 'node') problems.push(`(scope): no box ${scope.id} known to this hub (it appears once enrolled and connected)`);
    else site = node.site;
  }
  if (problems.length > 0) return { ok: false, problems };
  const version = store.desiredConfigs.write(scopeKey(scope), site, JSON.stringify(doc), actor, clock.now());
  return { ok: true, version };
}

/** One box: the versions of the documents it should run, and what it reported. */
export interface BoxConfigStatus {
  node: string;
  site: string;
  desired: ScopeVersions;
  /** Absent: the box has not reported yet. */
  reported?: {
    applied: ScopeVersions;
    /** The versions the box holds (replication may lag behind the hub). */
    seen: ScopeVersions;
    pendingRestart: string[];
    problems: string[];
    at: number;
  };
  /** The box runs every desired version (keys waiting for a restart aside). */
  inSync: boolean;
}

const sameVersions = (a: ScopeVersions, b: ScopeVersions) => (['fleet', 'site', 'node'] as const).every((k) => (a[k] ?? 0) === (b[k] ?? 0));

/** Desired versus reported config of every box the store knows (boxes: `nodes` rows of role node). */
export function configStatus(store: Store): BoxConfigStatus[] {
  const reports = new Map(store.configReports.list().map((r) => [r.nodeId, r]));
  const boxes = store.nodes.list().filter((n) => n.role === 'node').map((n) => ({ id: n.id, site: n.site }));
  // A box that reported but is not in `nodes` (a store that never saw it announce) is listed too.
  for (const id of reports.keys()) if (!boxes.some((b) => b.id === id)) boxes.push({ id, site: '' });
  return boxes.map((b) => {
    const desired: ScopeVersions = {};
    for (const s of scopesOfBox(b.id, b.site)) {
      const doc = store.desiredConfigs.get(s.key);
      if (doc) desired[s.kind] = doc.version;
    }
    const r = reports.get(b.id);
    const reported = r && { applied: r.applied, seen: r.desired, pendingRestart: r.pendingRestart, problems: r.problems, at: r.reportedAt };
    return { node: b.id, site: b.site, desired, ...(reported ? { reported } : {}), inSync: reported !== undefined && sameVersions(desired, reported.applied) };
  });
}
