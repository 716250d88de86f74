/**
 * The box's operator view end to end: `outpost node` as a child process linked to a hub broker
 * (an embedded aedes on 127.0.0.1, the test subscribes as the hub), its HTTP server on an
 * OS-chosen port. The status page in a real headless chromium on a phone-sized screen (health,
 * version, registrations after a real REGISTER, alarms; no console error or failed request;
 * screenshot, into docs/img/status-page.png with OUTPOST_UPDATE_SCREENSHOTS=1), /healthz, /metrics parsed with SIP counters moving,
 * every metric name documented in docs/metrics.md and every documented name served, and
 * telemetry on node/a1/telemetry valid against TelemetrySchema.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import type { Browser } from 'playwright-core';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { computeHa1 } from '../../agent/sip/auth/digest.ts';
import { Store } from '../../agent/store/store.ts';
import { EmbeddedBroker } from '../../agent/sync/embedded-broker.ts';
import { createSilentLogger } from '../../agent/lib/logger.ts';
import { readRuntimeInfo } from '../../agent/cli/runtime-file.ts';
import { parseProm } from '../../bench/lib/prometheus.ts';
import { SOFTWARE_VERSION } from '../../agent/control/version.ts';
import { TelemetrySchema, telemetryTopics, type Telemetry } from '../../agent/wire/telemetry.ts';
import { launchBrowser, openPage, screenshotPath } from '../../bench/lib/browser.ts';
import { HarnessError } from '../../bench/lib/harness-error.ts';
import { ROOT, runCli, startNode, tempDir, writeNodeConfig, type NodeProcess } from '../../bench/lib/node-process.ts';
import { NodeKey } from '../../agent/sync/node-key.ts';
import { waitFor } from '../../bench/lib/wait-for.ts';
import { registerUser } from '../../bench/lib/sip-register.ts';

const DOMAIN = 'branch-a.example';
const SCREENSHOT = screenshotPath('status-page.png');

interface Ctx {
  dir: string;
  broker: EmbeddedBroker;
  hub: MqttClient;
  samples: unknown[];
  node: NodeProcess;
  base: string;
  browser: Browser | undefined;
}

const test = suite<Ctx>('status page, /healthz, /metrics, telemetry');

test.before(async (ctx) => {
  ctx.dir = tempDir('outpost-status-page-');
  ctx.broker = new EmbeddedBroker({ host: '127.0.0.1', port: 0, logger: createSilentLogger() });
  await ctx.broker.start();
  ctx.samples = [];
  ctx.hub = mqtt.connect(ctx.broker.url, { clientId: 'hub', reconnectPeriod: 0 });
  await new Promise<void>((resolve, reject) => {
    ctx.hub.once('connect', () => ctx.hub.subscribe(telemetryTopics.of('a1'), { qos: 0 }, (err) => (err ? reject(err) : resolve())));
    ctx.hub.once('error', reject);
  });
  ctx.hub.on('message', (_topic, payload) => ctx.samples.push(JSON.parse(payload.toString())));
  const config = writeNodeConfig(ctx.dir, `hub: { url: "${ctx.broker.url}", id: hub }\nhttp: { listen: "127.0.0.1:0" }\ntelemetry: { interval: 1 }\n`, DOMAIN);
  const store = Store.open({ dataDir: join(ctx.dir, 'data') });
  store.users.upsert({ ext: '1001', displayName: 'Ann', realm: DOMAIN, site: 'branch-a', ha1Md5: computeHa1('1001', DOMAIN, 'pw-1001', 'MD5'), ha1Sha256: computeHa1('1001', DOMAIN, 'pw-1001', 'SHA-256') }, Date.now());
  store.close();
  ctx.node = await startNode(config, ctx.dir);
  const port = readRuntimeInfo(ctx.node.dataDir)?.metricsPort;
  if (!port) throw new HarnessError('node.json has no metricsPort: the HTTP server does not listen');
  ctx.base = `http://127.0.0.1:${port}`;
});

test.after(async (ctx) => {
  await ctx.browser?.close();
  ctx.hub?.end(true);
  const code = await ctx.node?.stop();
  await ctx.broker?.stop();
  assert.is(code, 0, 'node exits 0 on SIGTERM');
});

async function scrape(ctx: Ctx) {
  const res = await fetch(`${ctx.base}/metrics`);
  assert.is(res.status, 200);
  assert.is(res.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
  return parseProm(await res.text());
}

const REGISTER_IN = 'outpost_sip_requests_total{method="REGISTER",direction="in"}';
const OK_OUT = 'outpost_sip_responses_total{method="REGISTER",code="200",direction="out"}';

test('/healthz answers 200 ok while the box is healthy', async (ctx) => {
  const res = await fetch(`${ctx.base}/healthz`);
  assert.is(res.status, 200);
  assert.equal(await res.json(), { status: 'ok' });
});

test('/metrics parses; a REGISTER moves the SIP counters and the registrations gauge', async (ctx) => {
  const before = await scrape(ctx);
  assert.is(before.samples.get('outpost_registrations'), 0);
  assert.is(before.samples.get(`outpost_build_info{version="${SOFTWARE_VERSION}"}`), 1);
  assert.ok((before.samples.get('process_resident_memory_bytes') ?? 0) > 0);
  const result = await registerUser({ target: ctx.node.udp, domain: DOMAIN, user: '1001', password: 'pw-1001', contact: 'sip:1001@127.0.0.1:5999' });
  assert.ok(result.ok, `REGISTER: ${result.status} ${result.reason}`);
  const after = await scrape(ctx);
  assert.is(after.samples.get(REGISTER_IN), (before.samples.get(REGISTER_IN) ?? 0) + 2, 'the challenged REGISTER and the authenticated one');
  assert.is(after.samples.get(OK_OUT), (before.samples.get(OK_OUT) ?? 0) + 1);
  assert.is(after.samples.get('outpost_sip_responses_total{method="REGISTER",code="401",direction="out"}'), 1);
  assert.is(after.samples.get('outpost_registrations'), 1);
  assert.is(after.types.get('outpost_call_setup_seconds'), 'histogram');
  assert.is(after.samples.get('outpost_rtp_packets_total{direction="from_caller"}'), 0);
});

test('docs/metrics.md lists exactly the metrics a box linked to a hub serves', async (ctx) => {
  const { types } = await scrape(ctx);
  const doc = readFileSync(join(ROOT, 'docs/metrics.md'), 'utf8');
  const documented = new Map<string, string>();
  for (const m of doc.matchAll(/^\| `([a-z_:][a-z0-9_:]*)` \| (counter|gauge|histogram|summary) \|/gm)) documented.set(m[1]!, m[2]!);
  const served = [...types.keys()].sort();
  const missing = served.filter((n) => !documented.has(n));
  const extra = [...documented.keys()].filter((n) => !types.has(n));
  assert.equal(missing, [], 'served but not in docs/metrics.md');
  assert.equal(extra, [], 'in docs/metrics.md but not served');
  for (const [name, type] of types) assert.is(documented.get(name), type, `type of ${name}`);
});

test('telemetry on node/a1/telemetry validates against TelemetrySchema and counts the registration', async (ctx) => {
  const sample = await waitFor(
    () => ctx.samples.map((s) => TelemetrySchema.safeParse(s)).find((r) => r.success && r.data.sip.registrations === 1)?.data,
    'a telemetry sample with the registration',
  );
  const bad = ctx.samples.map((s) => TelemetrySchema.safeParse(s)).filter((r) => !r.success);
  assert.is(bad.length, 0, JSON.stringify(bad[0]?.error?.issues));
  const t: Telemetry = sample;
  assert.is(t.node, 'a1');
  assert.is(t.site, 'branch-a');
  assert.is(t.version, SOFTWARE_VERSION);
  assert.is(t.sync.hubLinked, true);
  assert.ok(t.mem.totalB > 0 && t.disk.totalB > 0 && t.proc.rssB > 0);
});

test('the status page on a phone screen: healthy, version, one registration, alarms; no problems; screenshot', async (ctx) => {
  ctx.browser = await launchBrowser();
  const { page, problems } = await openPage(ctx.browser, { mobile: true });
  const res = await page.goto(`${ctx.base}/`);
  assert.is(res?.status(), 200);
  assert.is(await page.getAttribute('#health', 'data-healthy'), 'true');
  assert.match((await page.textContent('#health h1')) ?? '', 'Healthy');
  assert.is((await page.textContent('#version'))?.trim(), SOFTWARE_VERSION);
  assert.is((await page.textContent('#registrations-count'))?.trim(), '1');
  assert.match((await page.textContent('#phones')) ?? '', 'sip:1001@127.0.0.1:5999');
  assert.match((await page.textContent('#alarms h2')) ?? '', 'Alarms (0)');
  assert.match((await page.textContent('#links')) ?? '', 'connected');
  assert.ok(await page.isVisible('#telemetry'));
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 390, `no horizontal scrolling on a phone (page is ${width} px wide)`);
  await page.screenshot({ path: SCREENSHOT, fullPage: true, scale: 'css' });
  assert.ok(statSync(SCREENSHOT).size > 0, 'screenshot written');
  assert.equal(problems, []);
});

test('`outpost status` exits 0 while healthy; a revoked certificate makes /healthz 503 and the exit code 1; stopped: 3', async (ctx) => {
  const healthy = await runCli(['status', '--config', ctx.node.configFile], ctx.dir);
  assert.is(healthy.code, 0, healthy.stderr);
  assert.match(healthy.stdout, /^health {4}healthy$/m);
  // The hub revoked this box's certificate and the revocation replicated: here written straight into its store.
  const store = Store.open({ dataDir: ctx.node.dataDir });
  store.revocations.revoke('0a1b2c', 'a1', Date.now(), NodeKey.loadOrCreate(ctx.node.dataDir).publicKey);
  store.close();
  const res = await waitFor(async () => {
    const r = await fetch(`${ctx.base}/healthz`);
    return r.status === 503 ? r : (await r.text(), undefined);
  }, '/healthz to answer 503');
  assert.equal(await res.json(), { status: 'unhealthy', reasons: ["this box's certificate is revoked"] });
  const page = await (await fetch(`${ctx.base}/`)).text();
  assert.match(page, 'data-healthy="false"');
  assert.match(page, 'node.revoked');
  const unhealthy = await waitFor(async () => {
    const r = await runCli(['status', '--config', ctx.node.configFile], ctx.dir);
    return r.code === 1 ? r : undefined;
  }, 'outpost status to exit 1');
  assert.match(unhealthy.stderr, "outpost: node a1 is unhealthy: this box's certificate is revoked");
  assert.match(unhealthy.stdout, /^health {4}UNHEALTHY: this box's certificate is revoked$/m);
  assert.is(await ctx.node.stop(), 0);
  const stopped = await runCli(['status', '--config', ctx.node.configFile], ctx.dir);
  assert.is(stopped.code, 3, stopped.stderr);
});

test.run();
