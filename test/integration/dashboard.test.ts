/**
 * The hub's fleet dashboard end to end (docs/dashboard.md): a real hub (its embedded broker
 * over mutual TLS, its store, its dashboard on 127.0.0.1 port 0), simulated certified boxes
 * (bench/lib/sim-box.ts: certificates from the hub's CA) publishing their state and telemetry
 * over mqtts, and a real headless chromium (bench/lib/browser.ts). Checks: no session →
 * redirected (pages) or 401 (API); login; the overview lists every box with its state; a new
 * sample shows up without a reload (SSE); a box page has a uPlot canvas; the CDR search finds
 * a CDR written at the hub, hostile text shown as text; no console error, failed request or
 * CSP violation; failed logins limited. Writes the screenshot (docs/img/dashboard.png with OUTPOST_UPDATE_SCREENSHOTS=1).
 * Runs alone too: node --import tsx test/integration/dashboard.test.ts
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { HubConfigSchema } from '../../agent/config/hub-schema.ts';
import { buildHub, type Hub } from '../../agent/hub/hub.ts';
import { setPassword } from '../../agent/hub/dashboard/passwd.ts';
import { createSilentLogger } from '../../agent/lib/logger.ts';
import type { CdrRecord } from '../../agent/store/cdrs.ts';
import { topics } from '../../agent/wire/topics.ts';
import { launchBrowser, openPage, screenshotPath, type WatchedPage } from '../../bench/lib/browser.ts';
import { issueSimBoxes, SimBox } from '../../bench/lib/sim-box.ts';
import { sampleTelemetry } from '../../bench/lib/telemetry-sample.ts';
import { waitFor } from '../../bench/lib/wait-for.ts';

const PASSWORD = 'correct horse battery';
const HOSTILE = '"><script>document.title="pwned"</script><img src=x>';
const SCREENSHOT = screenshotPath('dashboard.png');

interface Ctx {
  dir: string;
  hub: Hub;
  url: string;
  boxes: Map<string, SimBox>;
  browser: Browser;
  tab: WatchedPage;
  seq: number;
}

const test = suite<Ctx>('fleet dashboard');

test.before(async (ctx) => {
  ctx.dir = mkdtempSync(join(tmpdir(), 'outpost-dashboard-'));
  const config = HubConfigSchema.parse({ dataDir: ctx.dir, mqtt: { listen: 'mqtts://127.0.0.1:0' }, dashboard: { listen: '127.0.0.1:0', maxFailures: 3 }, telemetry: { staleAfter: 300 } });
  ctx.hub = buildHub(config, createSilentLogger());
  await ctx.hub.start();
  ctx.url = ctx.hub.dashboardUrl()!.replace(/\/$/, '');
  setPassword(ctx.dir, 'admin', PASSWORD);
  const issued = await issueSimBoxes(ctx.dir, [
    { id: 'a1', site: 'alpha' },
    { id: 'a2', site: 'alpha' },
    { id: 'b1', site: 'beta' },
  ]);
  ctx.boxes = new Map(issued.boxes.map((b) => [b.id, new SimBox(b, ctx.hub.brokerUrl(), issued.ca)]));
  for (const box of ctx.boxes.values()) await box.connect({ state: true });
  ctx.seq = 0;
  const a1 = ctx.boxes.get('a1')!;
  await a1.publishTelemetry(sampleTelemetry('a1', 'alpha', Date.now(), ctx.seq++, { alarms: [{ code: 'sync.rejected-change', severity: 'warning', message: HOSTILE, since: Date.now() }] }));
  await ctx.boxes.get('a2')!.publishTelemetry(sampleTelemetry('a2', 'alpha', Date.now(), 0, { sync: { hubLagMs: null, hubLinked: false, peers: [] } }));
  await ctx.boxes.get('b1')!.publishTelemetry(sampleTelemetry('b1', 'beta', Date.now()));
  // b1 dies without a DISCONNECT: the broker publishes its will, the offline state.
  await ctx.boxes.get('b1')!.close(false);
  const cdr: CdrRecord = {
    uuid: 'cdr-dashboard-1', nodeId: 'a1', caller: '1001', callee: `4477${HOSTILE}`, startedAt: Date.parse('2026-03-04T10:00:00Z'), answeredAt: Date.parse('2026-03-04T10:00:05Z'),
    endedAt: Date.parse('2026-03-04T10:01:05Z'), durationMs: 60_000, disposition: 'answered', sipStatus: 200, sipReason: 'OK', endedBy: 'caller', codecA: 'PCMA', codecB: 'opus',
    aCallId: 'a@x', bCallId: 'b@x', media: '{}', link: '',
  };
  await ctx.hub.store.writes.submit(() => ctx.hub.store.cdrs.close(cdr));
  ctx.browser = await launchBrowser();
  ctx.tab = await openPage(ctx.browser);
});

test.after(async (ctx) => {
  await ctx.browser?.close();
  for (const b of ctx.boxes?.values() ?? []) await b.close().catch(() => undefined);
  await ctx.hub?.stop();
  rmSync(ctx.dir, { recursive: true, force: true });
});

const stateOf = (ctx: Ctx, id: string) => ctx.tab.page.locator(`tr[data-box="${id}"] [data-k="state"]`).textContent({ timeout: 2000 }).catch(() => undefined);

test('without a session: a page redirects to the login, the API answers 401', async (ctx) => {
  const api = await fetch(`${ctx.url}/api/fleet`);
  assert.is(api.status, 401);
  const events = await fetch(`${ctx.url}/events`);
  assert.is(events.status, 401);
  const page = await fetch(`${ctx.url}/cdrs`, { redirect: 'manual' });
  assert.is(page.status, 303);
  assert.is(page.headers.get('location'), '/login');
  assert.match(page.headers.get('content-security-policy') ?? '', /script-src 'self'/);
  await ctx.tab.page.goto(`${ctx.url}/`);
  assert.is(new URL(ctx.tab.page.url()).pathname, '/login');
});

test('a wrong password is refused; the right one opens the overview with an HttpOnly SameSite=Strict cookie', async (ctx) => {
  const wrong = await fetch(`${ctx.url}/login`, { method: 'POST', body: new URLSearchParams({ user: 'admin', password: 'nope-nope' }), redirect: 'manual' });
  assert.is(wrong.status, 401);
  assert.is(wrong.headers.get('set-cookie'), null);
  const { page } = ctx.tab;
  await page.fill('input[name=user]', 'admin');
  await page.fill('input[name=password]', PASSWORD);
  await Promise.all([page.waitForURL(`${ctx.url}/`), page.click('button[type=submit]')]);
  const cookie = (await page.context().cookies()).find((c) => c.name === 'outpost_session');
  assert.ok(cookie, 'a session cookie');
  assert.is(cookie.httpOnly, true);
  assert.is(cookie.sameSite, 'Strict');
});

test('the overview lists every box with its state: online, partitioned (no hub link), offline (its will)', async (ctx) => {
  await waitFor(async () => {
    await ctx.tab.page.reload();
    return (await stateOf(ctx, 'b1')) === 'offline' && (await stateOf(ctx, 'a1')) === 'online';
  }, 'a1 online and b1 offline on the overview', 15_000, 250);
  assert.is(await stateOf(ctx, 'a2'), 'partitioned');
  const sites = await ctx.tab.page.locator('section.site h2').allTextContents();
  assert.equal(sites, ['Site alpha', 'Site beta']);
  assert.is(await ctx.tab.page.title(), 'Fleet · Outpost');
});

test('a new sample shows up live, without a reload (SSE)', async (ctx) => {
  const { page } = ctx.tab;
  await page.locator('#live:not([hidden])').waitFor({ timeout: 10_000 });
  await page.evaluate(() => ((window as unknown as { marker: number }).marker = 7));
  await ctx.boxes.get('a1')!.publishTelemetry(sampleTelemetry('a1', 'alpha', Date.now(), ctx.seq++, { sip: { registrations: 42, activeCalls: 3 } }));
  await page.locator('tr[data-box="a1"] [data-k="registrations"]', { hasText: '42' }).waitFor({ timeout: 10_000 });
  assert.is(await page.locator('tr[data-box="a1"] [data-k="activeCalls"]').textContent(), '3');
  assert.is(await page.evaluate(() => (window as unknown as { marker?: number }).marker), 7, 'the page was not reloaded');
  const height = await page.evaluate(() => Math.ceil(document.querySelector('main')!.getBoundingClientRect().bottom) + 8);
  await page.screenshot({ path: SCREENSHOT, clip: { x: 0, y: 0, width: 1280, height } });
  assert.ok(statSync(SCREENSHOT).size > 5000, 'a screenshot with content');
});

test('a payload naming another box than its topic is dropped and counted', async (ctx) => {
  const before = (await ctx.tab.page.evaluate(() => fetch('/api/fleet').then((r) => r.json()))) as { counters: { wrongTopic: number } };
  await ctx.boxes.get('a1')!.publishRaw(topics.nodeTelemetry('a1'), JSON.stringify(sampleTelemetry('a2', 'alpha', Date.now(), 0, { sip: { registrations: 999, activeCalls: 0 } })));
  const after = await waitFor(async () => {
    const o = (await ctx.tab.page.evaluate(() => fetch('/api/fleet').then((r) => r.json()))) as { counters: { wrongTopic: number } };
    return o.counters.wrongTopic > before.counters.wrongTopic && o;
  }, 'the wrong-topic counter');
  assert.ok(after);
  const a2 = (await ctx.tab.page.evaluate(() => fetch('/api/box/a2').then((r) => r.json()))) as { row: { registrations: number } };
  assert.is.not(a2.row.registrations, 999);
});

test('the box page draws uPlot charts of its window', async (ctx) => {
  const { page } = ctx.tab;
  await page.goto(`${ctx.url}/box/a1`);
  await page.locator('#lag-chart .uplot canvas').waitFor({ timeout: 10_000 });
  assert.ok((await page.locator('canvas').count()) >= 3);
  assert.is(await page.locator('h1 .id').textContent(), 'a1');
});

test('the alarms page shows a box alarm with hostile text as text', async (ctx) => {
  const { page } = ctx.tab;
  await ctx.boxes.get('a1')!.publishTelemetry(sampleTelemetry('a1', 'alpha', Date.now(), ctx.seq++, { alarms: [{ code: 'sync.rejected-change', severity: 'warning', message: HOSTILE, since: Date.now() }] }));
  const text = await waitFor(async () => {
    await page.goto(`${ctx.url}/alarms`);
    const t = await page.locator('table.alarms').textContent();
    return t?.includes('sync.rejected-change') && t;
  }, "a1's alarm on the alarms page");
  assert.ok(text.includes(HOSTILE), 'the message, literally');
  assert.ok(text?.includes('hub.partitioned') && text.includes('hub.offline'));
  assert.is(await page.title(), 'Alarms · Outpost');
});

test('the CDR search finds a CDR written at the hub, by number and time range', async (ctx) => {
  const { page } = ctx.tab;
  await page.goto(`${ctx.url}/cdrs`);
  await page.fill('input[name=q]', '4477');
  await page.fill('input[name=from]', '2026-03-04T09:00');
  await page.fill('input[name=to]', '2026-03-04T11:00');
  await Promise.all([page.waitForURL(/\/cdrs\?q=4477/), page.click('form.search button')]);
  const rows = page.locator('table.cdrs tbody tr');
  assert.is(await rows.count(), 1);
  assert.ok((await rows.first().textContent())?.includes(HOSTILE));
  assert.is(await page.title(), 'CDRs · Outpost');
  await page.goto(`${ctx.url}/cdrs?q=4477&from=2026-03-05T00:00`);
  assert.ok(await page.locator('text=No CDR matches.').isVisible());
});

test('no console error, failed request, CSP violation or error status on any page', (ctx) => {
  // An event stream stays open as long as its page: leaving the page aborts it, by design.
  const streamEnds = /^request failed: http:\/\/127\.0\.0\.1:\d+\/events(\?box=[a-z0-9-]+)? net::ERR_ABORTED$/;
  assert.equal(ctx.tab.problems.filter((p) => !streamEnds.test(p)), []);
});

test('logout ends the session', async (ctx) => {
  const { page } = ctx.tab;
  await page.goto(`${ctx.url}/`);
  await Promise.all([page.waitForURL(`${ctx.url}/login`), page.click('header form button')]);
  const status = await page.evaluate(() => fetch('/api/fleet').then((r) => r.status));
  assert.is(status, 401);
});

test('failed logins from one address are limited (maxFailures 3)', async (ctx) => {
  const attempt = () => fetch(`${ctx.url}/login`, { method: 'POST', body: new URLSearchParams({ user: 'admin', password: 'wrong-wrong' }), redirect: 'manual' }).then((r) => r.status);
  const statuses: number[] = [];
  for (let i = 0; i < 3; i++) statuses.push(await attempt());
  assert.ok(statuses.includes(429), statuses.join(','));
  assert.is(await attempt(), 429);
  const right = await fetch(`${ctx.url}/login`, { method: 'POST', body: new URLSearchParams({ user: 'admin', password: PASSWORD }), redirect: 'manual' });
  assert.is(right.status, 429, 'even the right password waits');
});

test.run();
