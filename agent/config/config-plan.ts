/**
 * The decision core of config push (docs/config-push.md), pure: given the box's own file (as
 * read), its desired documents, the config it runs and the one it started with, either refuse
 * (the effective config does not validate: keep the running one, list the problems) or accept,
 * naming the keys that change live now and those that wait for a restart.
 */
import { ConfigError } from './errors.ts';
import { applyOf, changedKeys } from './key-apply.ts';
import { overlay, type ScopeKind } from './config-overlay.ts';
import { parseConfigObject } from './load-config.ts';
import type { Config } from './schema.ts';

/** A desired document as the store holds it. */
export interface StoredDocument {
  kind: ScopeKind;
  version: number;
  /** JSON text of the document. */
  document: string;
}

export type ScopeVersions = Partial<Record<ScopeKind, number>>;

export interface PlanInput {
  /** The box's config file: names it in problems and anchors relative paths. */
  file: string;
  /** The box's file as read (an object of sections), or the problem that kept it from being read. */
  local: Record<string, unknown> | ConfigError;
  /** The documents that exist for this box, any order (overlaid fleet, site, node). */
  documents: readonly StoredDocument[];
  /** The effective config the box runs now (its last good one). */
  running: Config;
  /** The config the process started with: restart-only keys keep these values until a restart. */
  boot: Config;
}

export type Plan =
  | { kind: 'refused'; desired: ScopeVersions; problems: string[] }
  | { kind: 'accepted'; desired: ScopeVersions; config: Config; live: string[]; pendingRestart: string[] };

const ORDER: Record<ScopeKind, number> = { fleet: 0, site: 1, node: 2 };

export function versionsOf(documents: readonly StoredDocument[]): ScopeVersions {
  const out: ScopeVersions = {};
  for (const d of [...documents].sort((a, b) => ORDER[a.kind] - ORDER[b.kind])) out[d.kind] = d.version;
  return out;
}

export function planConfig(input: PlanInput): Plan {
  const desired = versionsOf(input.documents);
  if (input.local instanceof ConfigError) return { kind: 'refused', desired, problems: problemLines(input.local, []) };
  const docs: Array<{ kind: ScopeKind; version: number; body: Record<string, unknown> }> = [];
  const problems: string[] = [];
  for (const d of [...input.documents].sort((a, b) => ORDER[a.kind] - ORDER[b.kind])) {
    let body: unknown;
    try {
      body = JSON.parse(d.document);
    } catch {
      body = undefined;
    }
    if (body === null || typeof body !== 'object' || Array.isArray(body)) problems.push(`(${d.kind} document v${d.version}): not a mapping of config sections`);
    else docs.push({ kind: d.kind, version: d.version, body: body as Record<string, unknown> });
  }
  if (problems.length > 0) return { kind: 'refused', desired, problems };
  let config: Config;
  try {
    config = parseConfigObject(overlay(input.local, docs.map((d) => d.body)), input.file);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return { kind: 'refused', desired, problems: problemLines(err, docs) };
  }
  const live = changedKeys(input.running, config).filter((k) => applyOf(k) === 'live');
  const pendingRestart = changedKeys(input.boot, config).filter((k) => applyOf(k) === 'restart');
  return { kind: 'accepted', desired, config, live, pendingRestart };
}

/** `key: reason`, naming the document that set the key (or a section above it), if any. */
function problemLines(err: ConfigError, docs: ReadonlyArray<{ kind: ScopeKind; version: number; body: Record<string, unknown> }>): string[] {
  return err.problems.map((p) => {
    const from = [...docs].reverse().find((d) => setsKey(d.body, p.key));
    const source = from ? `${from.kind} document v${from.version}` : err.file;
    return `${p.key || '(file)'}: ${p.reason} (from ${source})`;
  });
}

/** Does `doc` set `key` (dotted, with [i]) or a section that holds it? */
function setsKey(doc: Record<string, unknown>, key: string): boolean {
  const parts = key.split(/\.|\[(\d+)\]/).filter((p) => p !== undefined && p !== '');
  let node: unknown = doc;
  for (const part of parts) {
    if (node === null || typeof node !== 'object') return true;
    if (!(part in (node as object))) return false;
    node = (node as Record<string, unknown>)[part];
  }
  return parts.length > 0;
}
