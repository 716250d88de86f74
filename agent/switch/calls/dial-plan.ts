/**
 * The dial plan: where a dialled number goes. A number that is an extension of this site goes
 * to that user first; otherwise the `routes` rows are tried in priority order. Patterns use
 * the usual PBX notation: digits and `*#+` match themselves, X = 0-9, Z = 1-9, N = 2-9,
 * `[1-5]`/`[135]` a set, and a final `.` one or more of anything. Pure functions.
 */
import type { RouteRecord } from '../../store/routes.ts';

export type RouteDecision =
  | { kind: 'extension'; ext: string; route: string | null }
  | { kind: 'trunk'; trunk: string; number: string; route: string }
  | { kind: 'reject'; status: number; reason: string; route: string | null };

const patternCache = new Map<string, RegExp | null>();

/** The regular expression for a dial pattern, or null when the pattern is malformed. */
export function compilePattern(pattern: string): RegExp | null {
  const cached = patternCache.get(pattern);
  if (cached !== undefined) return cached;
  let re = '^';
  let ok = pattern.length > 0;
  for (let i = 0; i < pattern.length && ok; i++) {
    const c = pattern[i]!;
    if (c >= '0' && c <= '9') re += c;
    else if (c === '*' || c === '#' || c === '+') re += `\\${c}`;
    else if (c === 'X' || c === 'x') re += '[0-9]';
    else if (c === 'Z' || c === 'z') re += '[1-9]';
    else if (c === 'N' || c === 'n') re += '[2-9]';
    else if (c === '.' && i === pattern.length - 1) re += '.+';
    else if (c === '[') {
      const end = pattern.indexOf(']', i);
      const set = end > i + 1 ? pattern.slice(i + 1, end) : '';
      if (!validSet(set)) ok = false;
      re += `[${set}]`;
      i = end;
    } else ok = false;
  }
  const out = ok ? new RegExp(`${re}$`) : null;
  if (patternCache.size < 1000) patternCache.set(pattern, out);
  return out;
}

/** A `[...]` set: digits and ascending ranges such as 1-5. */
function validSet(set: string): boolean {
  if (!/^[0-9]([0-9]|-[0-9])*$/.test(set)) return false;
  for (const m of set.matchAll(/([0-9])-([0-9])/g)) if (m[1]! > m[2]!) return false;
  return true;
}

export function matchesPattern(pattern: string, number: string): boolean {
  return compilePattern(pattern)?.test(number) ?? false;
}

/** Applies a route's strip/prefix rewrite to the dialled number. */
export function rewriteNumber(number: string, route: Pick<RouteRecord, 'strip' | 'prefix'>): string {
  return route.prefix + number.slice(Math.min(route.strip, number.length));
}

export function decideRoute(number: string, deps: { isExtension(ext: string): boolean; routes: readonly RouteRecord[] }): RouteDecision {
  if (deps.isExtension(number)) return { kind: 'extension', ext: number, route: null };
  for (const r of deps.routes) {
    if (!r.enabled || !matchesPattern(r.pattern, number)) continue;
    const rewritten = rewriteNumber(number, r);
    switch (r.action) {
      case 'extension':
        if (deps.isExtension(rewritten)) return { kind: 'extension', ext: rewritten, route: r.id };
        continue;
      case 'trunk':
        return { kind: 'trunk', trunk: r.target, number: rewritten, route: r.id };
      case 'reject': {
        const status = Number(r.target);
        return { kind: 'reject', status: status >= 400 && status <= 699 ? status : 403, reason: 'Rejected by dial plan', route: r.id };
      }
    }
  }
  return { kind: 'reject', status: 404, reason: `No route to ${number}`, route: null };
}
