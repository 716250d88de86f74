/**
 * Summarises a V8 .cpuprofile (from `bench/sync.ts --cpu-prof-dir`): where the busy samples
 * went, by function (self time), by function including callees (agent/ code only), and by
 * area (agent directory, package, node internals, GC).
 *
 *   node --import tsx bench/lib/sync-profile-summary.ts FILE.cpuprofile [--top N]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface ProfileSummary {
  wallS: number;
  busyS: number;
  idleS: number;
  self: Array<{ fn: string; ms: number; pctBusy: number }>;
  inclusive: Array<{ fn: string; ms: number; pctBusy: number }>;
  areas: Array<{ area: string; ms: number; pctBusy: number }>;
}

function shortUrl(url: string): string {
  const m = /\/(agent\/.*|node_modules\/.*)$/.exec(url);
  return m ? m[1]! : url.replace(/^file:\/\//, '');
}

function label(f: CallFrame): string {
  const name = f.functionName || '(anonymous)';
  if (!f.url) return name;
  return `${name} ${shortUrl(f.url)}:${f.lineNumber + 1}`;
}

function area(f: CallFrame): string {
  if (!f.url) return f.functionName.startsWith('(') ? f.functionName : 'native';
  const u = shortUrl(f.url);
  const a = /^agent\/([^/]+(?:\/[^/]+)?)\//.exec(u);
  if (a) return `agent/${a[1]}`;
  const p = /^node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(u);
  if (p) return p[1]!;
  if (u.startsWith('node:')) return u.split('/')[0]!.replace(/^(node:internal).*/, '$1');
  return u;
}

export function summarise(profile: Profile, top = 25): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  let idle = 0;
  let total = 0;
  const self = new Map<string, number>();
  const areas = new Map<string, number>();
  const incl = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const n = byId.get(id)!;
    total += us;
    if (n.callFrame.functionName === '(idle)') {
      idle += us;
      continue;
    }
    const l = label(n.callFrame);
    self.set(l, (self.get(l) ?? 0) + us);
    const a = area(n.callFrame);
    areas.set(a, (areas.get(a) ?? 0) + us);
    // Inclusive: every distinct agent/ function on the stack gets the sample's time once.
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const f = byId.get(cur)!.callFrame;
      if (!f.url.includes('/agent/')) continue;
      const fl = label(f);
      if (seen.has(fl)) continue;
      seen.add(fl);
      incl.set(fl, (incl.get(fl) ?? 0) + us);
    }
  }
  const busy = total - idle;
  const rows = (m: Map<string, number>) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, us]) => ({ k, ms: Math.round(us / 1000), pctBusy: Math.round((us / busy) * 1000) / 10 }));
  return {
    wallS: Math.round((profile.endTime - profile.startTime) / 1e5) / 10,
    busyS: Math.round(busy / 1e5) / 10,
    idleS: Math.round(idle / 1e5) / 10,
    self: rows(self).map(({ k, ...r }) => ({ fn: k, ...r })),
    inclusive: rows(incl).map(({ k, ...r }) => ({ fn: k, ...r })),
    areas: rows(areas).map(({ k, ...r }) => ({ area: k, ...r })),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values, positionals } = parseArgs({ options: { top: { type: 'string', default: '25' } }, allowPositionals: true });
  for (const file of positionals) {
    const s = summarise(JSON.parse(readFileSync(file, 'utf8')) as Profile, Number(values.top));
    process.stdout.write(`${file}\n  wall ${s.wallS} s, busy ${s.busyS} s, idle ${s.idleS} s\n`);
    process.stdout.write('  by area (self):\n');
    for (const r of s.areas) process.stdout.write(`    ${String(r.pctBusy).padStart(5)} %  ${String(r.ms).padStart(7)} ms  ${r.area}\n`);
    process.stdout.write('  by function (self):\n');
    for (const r of s.self) process.stdout.write(`    ${String(r.pctBusy).padStart(5)} %  ${String(r.ms).padStart(7)} ms  ${r.fn}\n`);
    process.stdout.write('  agent/ functions including callees:\n');
    for (const r of s.inclusive) process.stdout.write(`    ${String(r.pctBusy).padStart(5)} %  ${String(r.ms).padStart(7)} ms  ${r.fn}\n`);
  }
}
