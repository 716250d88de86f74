/**
 * HTML building for the dashboard's pages: every value from the fleet (node ids, sites, user
 * names, numbers, alarm messages) goes through `esc`, in text and in attributes alike. Pages
 * carry no inline script or style (the CSP forbids both); the behaviour is in static/.
 */
export function esc(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A time as `2026-12-07 19:20:01Z` (UTC), or a dash for none. */
export function when(ms: number | null | undefined): string {
  if (!ms) return '—';
  return new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

export function num(v: number | null | undefined, unit = ''): string {
  return v === null || v === undefined ? '—' : `${Math.round(v * 10) / 10}${unit}`;
}

export function bytes(v: number | null | undefined): string {
  if (v === null || v === undefined) return '—';
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let x = v;
  let i = 0;
  while (x >= 1000 && i < units.length - 1) {
    x /= 1000;
    i++;
  }
  return `${Math.round(x * 10) / 10} ${units[i]}`;
}

export interface LayoutOptions {
  title: string;
  /** `data-page` of the body: which script part runs. */
  page: string;
  user?: string;
  /** Extra attributes of the body, already escaped. */
  bodyData?: Record<string, string>;
  /** Load uPlot. */
  charts?: boolean;
}

export function layout(o: LayoutOptions, main: string): string {
  const data = Object.entries(o.bodyData ?? {})
    .map(([k, v]) => ` data-${k}="${esc(v)}"`)
    .join('');
  const nav = o.user
    ? `<nav><a href="/">Fleet</a><a href="/alarms">Alarms</a><a href="/cdrs">CDRs</a></nav>
<div class="who"><span>${esc(o.user)}</span><form method="post" action="/logout"><button type="submit">Log out</button></form></div>`
    : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(o.title)} · Outpost</title><link rel="icon" href="data:,">
${o.charts ? '<link rel="stylesheet" href="/static/uPlot.min.css">\n' : ''}<link rel="stylesheet" href="/static/dashboard.css">
</head><body data-page="${esc(o.page)}"${data}>
<header><a class="brand" href="/">Outpost fleet</a>${nav}<span id="live" class="live" hidden>live</span></header>
<main>
${main}
</main>
${o.charts ? '<script src="/static/uPlot.iife.min.js"></script>\n' : ''}<script src="/static/dashboard.js"></script>
</body></html>
`;
}
