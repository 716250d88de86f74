/**
 * Desired config documents (docs/config-push.md): what a document may hold, and how documents
 * lie over a box's own file. A document is an object of sections of the box config schema
 * (agent/config/schema.ts), any depth, any subset of keys. Overlay order, lowest first: the
 * local file, then the fleet document, then the site's, then the node's; an object merges key by
 * key, a list or a plain value replaces what is below, and `null` removes the key below (its
 * default applies again).
 */
import { z } from 'zod';
import { closestWord } from '../lib/closest-word.ts';
import { ConfigSchema } from './schema.ts';
import { nodeIdSchema } from './sync-schema.ts';

/** Keys a document may not set: the box's identity, storage and enrolment stay in its own file. */
const LOCAL_ONLY = new Set(['version', 'node', 'dataDir', 'enrol']);

export type ScopeKind = 'fleet' | 'site' | 'node';

/** Where a desired document applies (the admin op's payload: `{"kind":"site","id":"branch-a"}`). */
export const DesiredScopeSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('fleet') }),
  z.strictObject({ kind: z.literal('site'), id: nodeIdSchema }),
  z.strictObject({ kind: z.literal('node'), id: nodeIdSchema }),
]);

export type DesiredScope = z.output<typeof DesiredScopeSchema>;

/** The overlay order of the scope kinds, lowest first. */
export const SCOPE_ORDER: readonly ScopeKind[] = ['fleet', 'site', 'node'];

/** The row key of a scope: `fleet`, `site:<id>`, `node:<id>`. */
export function scopeKey(scope: DesiredScope): string {
  return scope.kind === 'fleet' ? 'fleet' : `${scope.kind}:${scope.id}`;
}

/** `fleet`, `site:ID` or `node:ID` (the CLI's spelling) as a scope; a string says what is wrong. */
export function parseScope(text: string): DesiredScope | string {
  if (text === 'fleet') return { kind: 'fleet' };
  const m = /^(site|node):([a-z0-9][a-z0-9-]{0,62})$/.exec(text);
  if (!m) return `scope must be "fleet", "site:<id>" or "node:<id>" (ids: lowercase letters, digits, dashes), got "${text}"`;
  return { kind: m[1] as 'site' | 'node', id: m[2]! };
}

/** The scope keys a box overlays, lowest first. */
export function scopesOfBox(nodeId: string, site: string): Array<{ kind: ScopeKind; key: string }> {
  return [
    { kind: 'fleet', key: 'fleet' },
    { kind: 'site', key: `site:${site}` },
    { kind: 'node', key: `node:${nodeId}` },
  ];
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** `docs` laid over `base` in order (see the module comment); the inputs are not changed. */
export function overlay(base: Record<string, unknown>, docs: ReadonlyArray<Record<string, unknown>>): Record<string, unknown> {
  const merge = (below: Record<string, unknown>, above: Record<string, unknown>): Record<string, unknown> => {
    const out: Record<string, unknown> = { ...below };
    for (const [k, v] of Object.entries(above)) {
      if (v === null) delete out[k];
      else if (isObject(v) && isObject(out[k])) out[k] = merge(out[k] as Record<string, unknown>, v);
      else out[k] = structuredClone(v);
    }
    return out;
  };
  return docs.reduce(merge, structuredClone(base));
}

/** The schema inside default, prefault, optional and pipe (transform) wrappers. */
function unwrap(schema: unknown): unknown {
  let node = schema;
  while (node instanceof z.ZodDefault || node instanceof z.ZodPrefault || node instanceof z.ZodOptional || node instanceof z.ZodPipe) {
    node = node instanceof z.ZodPipe ? node.in : node.unwrap();
  }
  return node;
}

function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const part of path) out += typeof part === 'number' ? `[${part}]` : out ? `.${String(part)}` : String(part);
  return out;
}

/**
 * The problems of a document, each `key.path: reason`; none when it is valid. Every key must be
 * one of the schema's, outside the local-only sections, and each value must be valid for its
 * key. Rules between keys of one section (`minExpires <= defaultExpires`) depend on the file
 * below, so the box checks them on the whole effective config.
 */
export function documentProblems(doc: unknown): string[] {
  if (!isObject(doc)) return [`(document): expected a mapping of config sections, got ${Array.isArray(doc) ? 'a list' : doc === null ? 'null' : `a ${typeof doc}`}`];
  const problems: string[] = [];
  const walk = (value: Record<string, unknown>, shape: Record<string, z.ZodType>, at: PropertyKey[]) => {
    for (const [k, v] of Object.entries(value)) {
      const path = [...at, k];
      const key = formatPath(path);
      const schema = shape[k];
      if (schema === undefined) {
        const guess = closestWord(k, Object.keys(shape));
        problems.push(`${key}: unknown key${guess ? ` (did you mean ${guess}?)` : ''}`);
        continue;
      }
      if (at.length === 0 && LOCAL_ONLY.has(k)) {
        problems.push(`${key}: set only in the box's own file, not by a desired config`);
        continue;
      }
      if (v === null) continue;
      const inner = unwrap(schema);
      if (inner instanceof z.ZodObject && isObject(v)) {
        walk(v, inner.shape as Record<string, z.ZodType>, path);
        continue;
      }
      const result = schema.safeParse(v);
      if (!result.success) for (const issue of result.error.issues) problems.push(`${formatPath([...path, ...issue.path])}: ${issue.message}`);
    }
  };
  walk(doc, (unwrap(ConfigSchema) as z.ZodObject).shape as Record<string, z.ZodType>, []);
  return problems;
}
