/**
 * The dashboard's pages, rendered on the server from the fleet view and the hub's CDRs (the
 * live updates afterwards come over SSE, static/dashboard.js). Every value is escaped (html.ts).
 */
import type { CdrRecord } from '../../store/cdrs.ts';
import type { BoxDetail, BoxRow, FleetAlarm, FleetOverview } from '../fleet-view.ts';
import { bytes, esc, layout, num, when } from './html.ts';

export function loginPage(error?: string): string {
  return layout(
    { title: 'Log in', page: 'login' },
    `<section class="login"><h1>Outpost fleet dashboard</h1>
${error ? `<p class="error" role="alert">${esc(error)}</p>` : ''}
<form method="post" action="/login">
<label>User <input name="user" autocomplete="username" required maxlength="64"></label>
<label>Password <input name="password" type="password" autocomplete="current-password" required maxlength="256"></label>
<button type="submit">Log in</button>
</form></section>`,
  );
}

const badge = (state: string) => `<span class="state ${esc(state)}" data-k="state">${esc(state)}</span>`;

export function boxRowHtml(b: BoxRow): string {
  return `<tr data-box="${esc(b.nodeId)}" class="${esc(b.state)}">
<td><a href="/box/${encodeURIComponent(b.nodeId)}">${esc(b.nodeId)}</a></td>
<td>${badge(b.state)} <span class="reason" data-k="reason">${esc(b.reason)}</span></td>
<td class="n" data-k="activeCalls">${num(b.activeCalls)}</td>
<td class="n" data-k="registrations">${num(b.registrations)}</td>
<td class="n" data-k="hubLagMs">${num(b.hubLagMs, ' ms')}</td>
<td class="n" data-k="alarms">${b.alarms.length}</td>
<td data-k="lastSeen">${when(b.lastSeen)}</td>
<td data-k="version">${esc(b.version ?? '—')}</td></tr>`;
}

export function overviewPage(user: string, o: FleetOverview): string {
  const t = o.totals;
  const sites = o.sites
    .map(
      (s) => `<section class="site" data-site="${esc(s.site)}"><h2>Site ${esc(s.site || '(none)')}</h2>
<table class="boxes"><thead><tr><th>box</th><th>state</th><th>calls</th><th>registrations</th><th>hub lag</th><th>alarms</th><th>last seen</th><th>version</th></tr></thead>
<tbody>${s.boxes.map(boxRowHtml).join('\n')}</tbody></table></section>`,
    )
    .join('\n');
  return layout(
    { title: 'Fleet', page: 'overview', user },
    `<h1>Fleet</h1>
<p class="totals" id="totals"><span><b data-t="boxes">${t.boxes}</b> boxes</span> <span class="online"><b data-t="online">${t.online}</b> online</span>
<span class="partitioned"><b data-t="partitioned">${t.partitioned}</b> partitioned</span> <span class="offline"><b data-t="offline">${t.offline}</b> offline</span>
<span><b data-t="activeCalls">${t.activeCalls}</b> calls</span> <span><b data-t="registrations">${t.registrations}</b> registrations</span>
<span><a href="/alarms"><b data-t="alarms">${t.alarms}</b> alarms</a></span></p>
<p class="dropped">Telemetry: <span data-c="accepted">${o.counters.accepted}</span> samples taken, <span data-c="invalid">${o.counters.invalid}</span> invalid and <span data-c="wrongTopic">${o.counters.wrongTopic}</span> on the wrong topic dropped.</p>
<div id="sites">${sites || '<p class="empty">No box has been heard of yet.</p>'}</div>`,
  );
}

function alarmRows(alarms: FleetAlarm[], withBox: boolean): string {
  if (alarms.length === 0) return `<p class="empty">No alarms.</p>`;
  return `<table class="alarms"><thead><tr>${withBox ? '<th>site</th><th>box</th>' : ''}<th>severity</th><th>code</th><th>message</th><th>since</th><th>from</th></tr></thead><tbody>
${alarms
  .map(
    (a) => `<tr class="${esc(a.severity)}">${withBox ? `<td>${esc(a.site)}</td><td><a href="/box/${encodeURIComponent(a.nodeId)}">${esc(a.nodeId)}</a></td>` : ''}
<td>${esc(a.severity)}</td><td><code>${esc(a.code)}</code></td><td>${esc(a.message)}</td><td>${when(a.since)}</td><td>${esc(a.source)}</td></tr>`,
  )
  .join('\n')}</tbody></table>`;
}

export function alarmsPage(user: string, alarms: FleetAlarm[]): string {
  return layout({ title: 'Alarms', page: 'alarms', user }, `<h1>Alarms</h1>\n${alarmRows(alarms, true)}`);
}

export function boxPage(user: string, d: BoxDetail): string {
  const r = d.row;
  const t = d.latest;
  const facts: Array<[string, string, string]> = [
    ['site', esc(r.site), 'site'],
    ['state', `${badge(r.state)} <span data-k="reason">${esc(r.reason)}</span>`, ''],
    ['last seen', when(r.lastSeen), 'lastSeen'],
    ['version', esc(t?.version ?? '—'), 'version'],
    ['uptime', t ? `${Math.round(t.uptimeS / 60)} min` : '—', 'uptime'],
    ['calls', num(r.activeCalls), 'activeCalls'],
    ['registrations', num(r.registrations), 'registrations'],
    ['hub lag', num(r.hubLagMs, ' ms'), 'hubLagMs'],
    ['hub link', t ? (t.sync.hubLinked ? 'linked' : 'not linked') : '—', 'hubLinked'],
    ['CPU', t ? `${num(t.cpu.usedPct, ' %')} (load ${num(t.cpu.load1)} / ${num(t.cpu.load5)} / ${num(t.cpu.load15)})` : '—', 'cpu'],
    ['memory', t ? `${bytes(t.mem.availableB)} free of ${bytes(t.mem.totalB)}` : '—', 'mem'],
    ['disk', t ? `${bytes(t.disk.freeB)} free of ${bytes(t.disk.totalB)}` : '—', 'disk'],
    ['temperatures', t && t.tempsC.length ? t.tempsC.map((c) => `${num(c)} °C`).join(', ') : '—', 'temps'],
    ['network', t ? `rx ${bytes(t.net.rxBps)}/s, tx ${bytes(t.net.txBps)}/s` : '—', 'net'],
    ['process', t ? `RSS ${bytes(t.proc.rssB)}, event-loop delay ${num(t.proc.loopDelayMs, ' ms')}` : '—', 'proc'],
    ['peers', t && t.sync.peers.length ? t.sync.peers.map((p) => `${esc(p.id)} ${p.up ? 'up' : 'down'}`).join(', ') : '—', 'peers'],
  ];
  return layout(
    { title: `Box ${r.nodeId}`, page: 'box', user, charts: true, bodyData: { box: r.nodeId } },
    `<h1>Box <span class="id">${esc(r.nodeId)}</span></h1>
<dl class="facts">${facts.map(([k, v, key]) => `<dt>${k}</dt><dd${key ? ` data-k="${key}"` : ''}>${v}</dd>`).join('')}</dl>
<h2>Replication lag to the hub</h2><div class="chart" id="lag-chart"></div>
<h2>Calls and registrations</h2><div class="chart" id="calls-chart"></div>
<h2>CPU and memory</h2><div class="chart" id="cpu-chart"></div>
<p class="note">Over the hub's window of this box's telemetry (${d.series ? d.series.at.length : 0} samples when the page was made).</p>
<h2>Alarms</h2><div id="box-alarms">${alarmRows(r.alarms, false)}</div>`,
  );
}

export interface CdrQuery {
  text: string;
  from: string;
  to: string;
  page: number;
}

export function cdrPage(user: string, q: CdrQuery, rows: CdrRecord[] | undefined, more: boolean, problem?: string): string {
  const link = (page: number) => `/cdrs?${new URLSearchParams({ q: q.text, from: q.from, to: q.to, page: String(page) }).toString()}`;
  const table =
    rows === undefined
      ? ''
      : rows.length === 0
        ? '<p class="empty">No CDR matches.</p>'
        : `<table class="cdrs"><thead><tr><th>started</th><th>caller</th><th>callee</th><th>disposition</th><th>talk</th><th>box</th><th>codecs</th><th>SIP</th></tr></thead><tbody>
${rows
  .map(
    (c) => `<tr><td>${when(c.startedAt)}</td><td>${esc(c.caller)}</td><td>${esc(c.callee)}</td><td>${esc(c.disposition)}</td><td class="n">${Math.round(c.durationMs / 1000)} s</td>
<td><a href="/box/${encodeURIComponent(c.nodeId)}">${esc(c.nodeId)}</a></td><td>${esc(c.codecA)}/${esc(c.codecB)}</td><td>${esc(c.sipStatus)} ${esc(c.sipReason)}</td></tr>`,
  )
  .join('\n')}</tbody></table>
<p class="pages">${q.page > 1 ? `<a href="${esc(link(q.page - 1))}" rel="prev">← newer</a>` : ''} page ${q.page} ${more ? `<a href="${esc(link(q.page + 1))}" rel="next">older →</a>` : ''}</p>`;
  return layout(
    { title: 'CDRs', page: 'cdrs', user },
    `<h1>Call records</h1>
<form class="search" method="get" action="/cdrs">
<label>Number or user <input name="q" value="${esc(q.text)}" maxlength="64" placeholder="1001"></label>
<label>From (UTC) <input name="from" type="datetime-local" value="${esc(q.from)}"></label>
<label>To (UTC) <input name="to" type="datetime-local" value="${esc(q.to)}"></label>
<button type="submit">Search</button></form>
${problem ? `<p class="error">${esc(problem)}</p>` : ''}
${table}`,
  );
}

export function notFoundPage(user: string, what: string): string {
  return layout({ title: 'Not found', page: 'none', user }, `<h1>Not found</h1><p>${esc(what)}</p>`);
}
