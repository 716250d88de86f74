/**
 * Renewal before expiry without an operator (docs/enrolment.md "Renewal"), with real processes:
 * a secure cluster whose hub issues 3-minute certificates (`ca.certificateValidity`), boxes that
 * renew in the last 90% of the validity (`renewal.window`). a1 renews by itself over mutual TLS
 * (a new node.crt, same identity, later expiry; the hub logs it); without a restart its broker
 * and its SIP TLS port present the new certificate to new connections, its links reconnect with
 * it and it keeps replicating; after a restart it runs on the renewed certificate too. The hub
 * renews its own certificate with its CA in the same way (`renewal.window` of its file): its
 * broker and enrolment endpoint present the new one without a restart.
 * With a 90% window a certificate renews every ~18 s: a served serial is checked to be one the
 * CA issued for that node after the first, not equal to a file read a moment before.
 * Runs alone too: node --import tsx test/integration/renewal.test.ts
 */
import { readFileSync } from 'node:fs';
import { connect as tlsConnect } from 'node:tls';
import { readRuntimeInfo } from '../../agent/cli/runtime-file.ts';
import { readCredentials } from '../../agent/trust/credentials.ts';
import { issuedCertificates } from '../../agent/trust/issued-certificates.ts';
import { HarnessError } from '../../bench/lib/harness-error.ts';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parseCertificate } from '../../agent/trust/identity.ts';
import { waitFor } from '../../bench/lib/wait-for.ts';
import { explainedOn, SyncCluster, type Replica } from '../helpers/sync-cluster.ts';

interface Ctx {
  cluster: SyncCluster;
  failed: boolean;
}

/** The serials (lower-case hex) the hub's CA issued for `nodeId`, oldest first. */
const issuedFor = (ctx: Ctx, nodeId: string) => issuedCertificates(ctx.cluster.hub.dataDir, nodeId).map((c) => c.serial.toLowerCase());

/** Asserts `served` is a certificate the CA issued for `nodeId` other than its first. */
function assertRenewed(ctx: Ctx, nodeId: string, served: string, what: string): void {
  const issued = issuedFor(ctx, nodeId);
  assert.ok(issued.includes(served), `${what}: ${served} is a certificate the CA issued for ${nodeId}`);
  assert.is.not(served, issued[0], `${what}: not the first certificate`);
}

const USERS = ['2001', '2002'];
const CONVERGE_MS = 30_000;
/** The window opens 18 s into a 3-minute certificate; the renewal must land before its end. */
const RENEW_MS = 170_000;
const test = suite<Ctx>('certificate renewal (processes)');
const explained = (body: (ctx: Ctx) => Promise<void>) => explainedOn<Ctx>(body);

const certOf = (r: Replica) => parseCertificate(readFileSync(join(r.dataDir, 'node.crt'), 'utf8'));
/** The serial (lower-case hex) of the certificate a TLS server at host:port presents to a new connection, as a1's client certificate. */
function servedSerial(r: Replica, host: string, port: number): Promise<string> {
  const creds = readCredentials(r.dataDir);
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host, port, key: creds.key, cert: creds.cert, ca: creds.ca, rejectUnauthorized: false }, () => {
      const serial = socket.getPeerCertificate().serialNumber.toLowerCase();
      socket.destroy();
      resolve(serial);
    });
    socket.once('error', (err) => reject(new HarnessError(`TLS to ${host}:${port}: ${err.message}`)));
  });
}

/** REGISTERs until answered 200: a box just started or busy sheds registrations with 503 and Retry-After (docs/sip-registrar.md). */
async function registered(ctx: Ctx, r: Replica, user: string, tag: string): Promise<string> {
  let contact = '';
  await waitFor(async () => {
    const { result, binding } = await ctx.cluster.register(r, user, tag);
    contact = binding.contact;
    return result.ok;
  }, `REGISTER ${user} at ${r.name} answered 200`, CONVERGE_MS, 500);
  return contact;
}

const has = (ctx: Ctx, r: Replica, contact: string) => [...ctx.cluster.snapshot(r).bindings].some((b) => b.includes(contact));

test.before(async (ctx) => {
  ctx.failed = false;
  ctx.cluster = await SyncCluster.create({
    broker: 'embedded',
    nodes: ['a1'],
    hubExtra: 'ca: { certificateValidity: 3m }\nrenewal: { window: 0.9 }\n',
    nodeExtra: 'renewal: { window: 0.9, retryMin: 1, retryMax: 5 }\n',
    sipListen: ['tls'],
  });
  await ctx.cluster.start();
  await ctx.cluster.addUsers(USERS.map((ext) => ({ ext, site: ctx.cluster.site })));
  await ctx.cluster.waitForUsers(ctx.cluster.nodes, USERS, CONVERGE_MS);
});

test.after(async (ctx) => {
  await ctx.cluster?.destroy(!ctx.failed);
});

test('a1 renews its certificate by itself before it expires; the hub logs it', explained(async (ctx) => {
  const c = ctx.cluster;
  const a1 = c.node('a1');
  const first = certOf(a1);
  assert.ok(first.notAfter.getTime() - first.notBefore.getTime() < 10 * 60_000, 'a short-lived certificate');
  const line = await a1.waitForLog('certificate renewed', RENEW_MS);
  assert.is(line.line['old'], first.serial);
  await c.hub.waitForLog('certificate renewed', CONVERGE_MS, (l) => l['node'] === 'a1');
  const renewed = certOf(a1);
  assert.is(renewed.serial, line.line['serial']);
  assert.ok(renewed.notAfter.getTime() > first.notAfter.getTime());
  assert.equal([renewed.nodeId, renewed.site, renewed.nodeKey], [first.nodeId, first.site, first.nodeKey]);
}));

test('without a restart, a1 serves the renewed certificate on its broker and SIP TLS port and keeps replicating', explained(async (ctx) => {
  const c = ctx.cluster;
  const a1 = c.node('a1');
  const pid = a1.pid;
  await a1.waitForLog('renewed certificate in use', CONVERGE_MS);
  const broker = new URL(readRuntimeInfo(a1.dataDir)?.mqtt ?? '');
  assertRenewed(ctx, 'a1', await servedSerial(a1, broker.hostname, Number(broker.port)), 'a1\'s broker');
  const sip = a1.sipOf('tls');
  assertRenewed(ctx, 'a1', await servedSerial(a1, sip.host, sip.port), 'a1\'s SIP TLS port');
  await a1.waitForLog('reconnecting with the renewed certificate', CONVERGE_MS, (l) => l['link'] === 'hub');
  const contact = await registered(ctx, a1, '2002', 'live');
  await waitFor(() => has(ctx, c.hub, contact), 'a1\'s registration at the hub', CONVERGE_MS, 50);
  assert.is(a1.pid, pid, 'a1 was not restarted');
}));

test('the hub renews its own certificate with its CA; its broker and enrolment endpoint present it without a restart; a1 keeps replicating', explained(async (ctx) => {
  const c = ctx.cluster;
  const a1 = c.node('a1');
  const pid = c.hub.pid;
  const line = await c.hub.waitForLog('hub certificate renewed', RENEW_MS);
  assert.is(line.line['old'], issuedFor(ctx, 'hub')[0]);
  const broker = new URL(c.hubUrl!);
  assertRenewed(ctx, 'hub', await servedSerial(a1, broker.hostname, Number(broker.port)), 'the hub\'s broker');
  const enrol = new URL(readRuntimeInfo(c.hub.dataDir)?.enrol ?? '');
  assertRenewed(ctx, 'hub', await servedSerial(a1, enrol.hostname, Number(enrol.port)), 'the enrolment endpoint');
  const contact = await registered(ctx, a1, '2001', 'hub-renewed');
  await waitFor(() => has(ctx, c.hub, contact), 'a1\'s registration at the hub', CONVERGE_MS, 50);
  assert.is(c.hub.pid, pid, 'the hub was not restarted');
}));

test('restarted, a1 runs on the renewed certificate and keeps replicating', explained(async (ctx) => {
  const c = ctx.cluster;
  const a1 = c.node('a1');
  assert.is(await a1.stop(), 0);
  await a1.start();
  const contact = await registered(ctx, a1, '2001', 'renewed');
  await waitFor(() => has(ctx, c.hub, contact), 'a1\'s registration at the hub', CONVERGE_MS, 50);
}));

test.run();
