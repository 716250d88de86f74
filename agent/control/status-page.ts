/**
 * The box's status page (docs/status-page.md): one server-rendered HTML page for a field
 * technician's phone, no script; a meta refresh reloads it every 10 s. Every value from data
 * (user names, contacts, CDR numbers, peer ids, alarm texts) goes through escapeHtml.
 */
import type { Alarm, Telemetry } from '../wire/telemetry.ts';
import type { Health } from './health.ts';

export interface StatusView {
  health: Health;
  version: string;
  node: string;
  site: string;
  domain: string;
  uptimeS: number;
  /** Epoch ms the page was rendered. */
  now: number;
  sipListen: string[];
  hub: { url: string; connected: boolean; lagS: number | null } | null;
  peers: Array<{ id: string; state: string; since: string; lagS: number | null }>;
  registrations: Array<{ aor: string; contact: string; expiresIn: number; userAgent: string }>;
  activeCalls: number;
  cdrs: Array<{ startedAt: number; caller: string; callee: string; disposition: string; durationMs: number }>;
  alarms: Alarm[];
  telemetry: Telemetry | undefined;
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

const e = escapeHtml;

function duration(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  return d ? `${d}d ${h}h ${m}m` : h ? `${h}h ${m}m` : m ? `${m}m ${s % 60}s` : `${s}s`;
}

const mib = (b: number) => `${Math.round(b / 1048576)} MiB`;
const gib = (b: number) => `${(b / 1073741824).toFixed(1)} GiB`;
const iso = (ms: number) => new Date(ms).toISOString().replace('T', ' ').slice(0, 19);
const lag = (s: number | null) => (s === null ? '' : ` · lag ${s.toFixed(1)} s`);

const CSS = `
*{box-sizing:border-box}body{margin:0;font:15px/1.4 system-ui,sans-serif;background:#f4f5f7;color:#1b1f24}
header{padding:14px 16px;color:#fff}header.ok{background:#1a7f37}header.bad{background:#c62828}
header h1{margin:0;font-size:22px}header p{margin:4px 0 0}
main{padding:8px 12px 24px;max-width:760px;margin:auto}
section{background:#fff;border-radius:8px;margin:10px 0;padding:10px 12px;box-shadow:0 1px 2px rgba(0,0,0,.08)}
h2{font-size:16px;margin:0 0 6px}dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;margin:0}
dt{color:#57606a}dd{margin:0;overflow-wrap:anywhere}ul{margin:0;padding-left:18px}li{overflow-wrap:anywhere}
.warning{color:#9a6700}.critical{color:#c62828;font-weight:600}.up{color:#1a7f37}.down{color:#c62828}
table{border-collapse:collapse;width:100%;font-size:14px}td,th{text-align:left;padding:2px 6px 2px 0;overflow-wrap:anywhere}
.big{font-size:26px;font-weight:600}.muted{color:#57606a}`;

export function renderStatusPage(v: StatusView): string {
  const ok = v.health.healthy;
  const t = v.telemetry;
  const section = (id: string, title: string, body: string) => `<section id="${id}"><h2>${title}</h2>${body}</section>`;
  const counts = `<dl><dt>Registrations</dt><dd class="big" id="registrations-count">${v.registrations.length}</dd><dt>Active calls</dt><dd class="big" id="active-calls">${v.activeCalls}</dd></dl>`;
  const box = `<dl><dt>Version</dt><dd id="version">${e(v.version)}</dd><dt>Node</dt><dd>${e(v.node)}</dd><dt>Site</dt><dd>${e(v.site)}</dd><dt>Domain</dt><dd>${e(v.domain)}</dd><dt>Uptime</dt><dd id="uptime">${duration(v.uptimeS)}</dd><dt>SIP</dt><dd>${v.sipListen.map(e).join('<br>')}</dd></dl>`;
  const links = [
    v.hub ? `<li>hub ${e(v.hub.url)}: <span class="${v.hub.connected ? 'up">connected' : 'down">unreachable'}</span>${lag(v.hub.lagS)}</li>` : '<li class="muted">standalone: no hub</li>',
    ...v.peers.map((p) => `<li>peer ${e(p.id)}: <span class="${p.state === 'up' ? 'up' : 'down'}">${e(p.state)}</span> since ${e(p.since)}${lag(p.lagS)}</li>`),
  ].join('');
  const alarms = v.alarms.length
    ? `<ul>${v.alarms.map((a) => `<li class="${e(a.severity)}">${e(a.code)}: ${e(a.message)} <span class="muted">since ${iso(a.since)}</span></li>`).join('')}</ul>`
    : '<p class="muted">none</p>';
  const regs = v.registrations.length
    ? `<table><tr><th>user</th><th>contact</th><th>expires</th></tr>${v.registrations.slice(0, 50).map((r) => `<tr><td>${e(r.aor)}</td><td>${e(r.contact)}${r.userAgent ? `<br><span class="muted">${e(r.userAgent)}</span>` : ''}</td><td>${r.expiresIn}s</td></tr>`).join('')}</table>`
    : '<p class="muted">no phone registered</p>';
  const cdrs = v.cdrs.length
    ? `<table><tr><th>start</th><th>from → to</th><th>result</th></tr>${v.cdrs.map((c) => `<tr><td>${iso(c.startedAt)}</td><td>${e(c.caller)} → ${e(c.callee)}</td><td>${e(c.disposition)} ${Math.round(c.durationMs / 1000)}s</td></tr>`).join('')}</table>`
    : '<p class="muted">no calls yet</p>';
  const machine = t
    ? `<dl><dt>CPU</dt><dd>${t.cpu.usedPct}% · load ${t.cpu.load1.toFixed(2)} ${t.cpu.load5.toFixed(2)} ${t.cpu.load15.toFixed(2)}</dd><dt>Memory</dt><dd>${mib(t.mem.availableB)} free of ${mib(t.mem.totalB)}</dd><dt>Disk</dt><dd>${gib(t.disk.freeB)} free of ${gib(t.disk.totalB)}</dd><dt>Network</dt><dd>in ${Math.round(t.net.rxBps / 1024)} KiB/s · out ${Math.round(t.net.txBps / 1024)} KiB/s</dd>${t.tempsC.length ? `<dt>Temperature</dt><dd>${t.tempsC.map((c) => `${Math.round(c)} °C`).join(' ')}</dd>` : ''}<dt>Process</dt><dd>${mib(t.proc.rssB)} · loop delay ${t.proc.loopDelayMs.toFixed(1)} ms</dd><dt>Sampled</dt><dd>${iso(t.at)}</dd></dl>`
    : '<p class="muted">no sample yet</p>';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta http-equiv="refresh" content="10"><link rel="icon" href="data:,"><title>${ok ? 'OK' : 'PROBLEM'} · ${e(v.node)} · Outpost</title><style>${CSS}</style></head>
<body><header id="health" class="${ok ? 'ok' : 'bad'}" data-healthy="${ok}"><h1>${ok ? '● Healthy' : '● Unhealthy'}</h1><p>${e(v.node)} · site ${e(v.site)}</p>${ok ? '' : `<ul id="reasons">${v.health.reasons.map((r) => `<li>${e(r)}</li>`).join('')}</ul>`}</header>
<main>${section('counts', 'Now', counts)}${section('alarms', `Alarms (${v.alarms.length})`, alarms)}${section('links', 'Hub and peers', `<ul>${links}</ul>`)}${section('box', 'Box', box)}${section('phones', 'Registered phones', regs)}${section('cdrs', 'Last calls', cdrs)}${section('telemetry', 'Machine', machine)}
<p class="muted">Rendered ${iso(v.now)} UTC · refreshes every 10 s · <a href="/healthz">/healthz</a> · <a href="/metrics">/metrics</a></p></main></body></html>
`;
}
