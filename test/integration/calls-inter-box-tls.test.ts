/**
 * SIP over TLS (docs/sip-tls.md), end to end: a hub and two enrolled boxes a1 and a2 of site `a`,
 * each listening on `udp:` and `tls:`. A phone registers over TLS at a1 (401, then 200 on the
 * same connection). 2001 at a1 calls 2002 at a2 (the phones over UDP with sipp, which has no TLS
 * here): the boxes announce their TLS addresses, so the hop between them goes over mutual TLS,
 * and a2 logs the certified signer. Last, forged peers over TLS get 403 and a warning: one with
 * a certificate from another CA and a forged signature, and one with a certificate from the
 * fleet's CA naming a box of another site that carries a1's genuine signature (a stolen node
 * key is not enough over TLS: the certificate must name the signer).
 * Runs alone too: node --import tsx test/integration/calls-inter-box-tls.test.ts
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createPrivateKey } from 'node:crypto';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { sippCounts } from '../../bench/lib/sipp.ts';
import { waitFor } from '../../bench/lib/wait-for.ts';
import { createSystemClock } from '../../agent/lib/clock.ts';
import { parseMessage } from '../../agent/sip/message/parse-message.ts';
import { serializeMessage } from '../../agent/sip/message/serialize-message.ts';
import { NODE_HEADER, NodeAssertion } from '../../agent/switch/calls/node-assertion.ts';
import { NodeKey, verifySignature } from '../../agent/sync/node-key.ts';
import { CertificateAuthority } from '../../agent/trust/ca.ts';
import { newTlsKey } from '../../agent/trust/credentials.ts';
import { spkiOfKey } from '../../agent/trust/x509.ts';
import { testFleet } from '../../agent/sip/transport/tls-test-support.ts';
import { describeSipp, freeUdpPorts, LOCALHOST, spawnSipp, SIPP_SCENARIOS, udpPortBound, type SippProcess } from '../helpers/calls.ts';
import { cdrsOf, sippAuth as auth, sippRegister, siteCluster, waitForBinding } from '../helpers/inter-box.ts';
import { md5Authorization, parseDigestChallenge } from '../../bench/lib/sip-register.ts';
import { openSipTls } from '../helpers/sip-tls-client.ts';
import { explainedOn, passwordOf, type SyncCluster, type Replica } from '../helpers/sync-cluster.ts';
import { HarnessError } from '../../bench/lib/harness-error.ts';

interface Ctx {
  cluster: SyncCluster;
  sipps: SippProcess[];
  failed: boolean;
}

const CALLER = '2001';
const CALLEE = '2002';
const DOMAIN = 'inter-box-tls.example';
const tlsSuite = suite<Ctx>('SIP over TLS: phones and the hop between boxes');

tlsSuite.before(async (ctx) => {
  ctx.sipps = [];
  ctx.failed = false;
  ctx.cluster = await siteCluster({ nodes: ['a1', 'a2'], users: [CALLER, CALLEE], domain: DOMAIN, sipListen: ['tls'] });
});

tlsSuite.after(async (ctx) => {
  for (const s of ctx.sipps) s.kill();
  await ctx.cluster?.destroy(!ctx.failed);
});

const explained = (body: (ctx: Ctx) => Promise<void>) => explainedOn<Ctx>(body, 40);
const caOf = (box: Replica) => readFileSync(join(box.dataDir, 'ca.crt'), 'utf8');

function registerText(port: number, cseq: number, auth = ''): string {
  return [
    `REGISTER sip:${DOMAIN} SIP/2.0`,
    `Via: SIP/2.0/TLS ${LOCALHOST}:${port};branch=z9hG4bK-tlsreg-${cseq};rport`,
    'Max-Forwards: 70',
    `From: <sip:${CALLER}@${DOMAIN}>;tag=tlsreg`,
    `To: <sip:${CALLER}@${DOMAIN}>`,
    'Call-ID: tls-register-1@phone',
    `CSeq: ${cseq} REGISTER`,
    `Contact: <sip:${CALLER}@${LOCALHOST}:${port};transport=tls>`,
    'Expires: 600',
    ...(auth ? [`Authorization: ${auth}`] : []),
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

tlsSuite('a phone registers over TLS: 401, then 200 on the same connection, the binding says tls', explained(async (ctx) => {
  const a1 = ctx.cluster.node('a1');
  const phone = await openSipTls({ ...a1.sipOf('tls'), ca: caOf(a1) });
  try {
    phone.send(registerText(phone.port, 1));
    const challenge = await phone.final();
    assert.is(challenge.status, 401);
    const params = parseDigestChallenge(challenge.headers.get('www-authenticate') ?? '');
    assert.ok(params, 'a digest challenge');
    phone.send(registerText(phone.port, 2, md5Authorization({ user: CALLER, password: passwordOf(CALLER), uri: `sip:${DOMAIN}`, method: 'REGISTER', challenge: params! })));
    const ok = await phone.final();
    assert.is(ok.status, 200, `${ok.status} ${ok.reason}`);
    assert.match(ok.headers.get('via') ?? '', /^SIP\/2\.0\/TLS .*;received=127\.0\.0\.1/);
    await waitForBinding(ctx.cluster, a1, CALLER, 'a1', `transport=tls`);
  } finally {
    phone.close();
  }
}));

tlsSuite('2001 at a1 calls 2002 at a2: the hop between the boxes goes over mutual TLS', explained(async (ctx) => {
  const [a1, a2] = ctx.cluster.nodes as [Replica, Replica];
  const [calleePort, callerPort] = [await freeUdpPorts(1), await freeUdpPorts(1)];
  await sippRegister(ctx.cluster, ctx.sipps, a2, CALLEE, calleePort);
  await sippRegister(ctx.cluster, ctx.sipps, a1, CALLER, callerPort);
  await waitForBinding(ctx.cluster, a1, CALLEE, 'a2', `:${calleePort}`);
  const uas = spawnSipp({
    scenario: join(SIPP_SCENARIOS, 'call-uas.xml'), dir: ctx.cluster.dir, name: `uas-${calleePort}`, port: calleePort, mediaPort: await freeUdpPorts(4),
    calls: 1, rtpEcho: true, timeoutS: 30,
  });
  ctx.sipps.push(uas);
  await waitFor(() => udpPortBound(calleePort), 'the sipp callee to listen', 5_000);
  const uac = spawnSipp({
    scenario: join(SIPP_SCENARIOS, 'call-uac.xml'), dir: ctx.cluster.dir, name: `uac-${callerPort}`, port: callerPort, mediaPort: await freeUdpPorts(4),
    target: a1.sip, injection: [`${CALLER};${auth(CALLER)};${ctx.cluster.domain};${CALLEE}`], calls: 1, timeoutS: 30,
  });
  ctx.sipps.push(uac);
  const [uacRes, uasRes] = [await uac.done, await uas.done];
  assert.equal(sippCounts(uacRes.stdout), { successful: 1, failed: 0 }, describeSipp('caller', uac, uacRes));
  assert.equal(sippCounts(uasRes.stdout), { successful: 1, failed: 0 }, describeSipp('callee', uas, uasRes));
  const line = await a2.waitForLog('inter-box request over mutual tls', 5_000);
  assert.is(line.line['node'], 'a1');
  const cdr = await waitFor(async () => (await cdrsOf(a2)).find((c) => c.caller === CALLER), "a2's CDR", 10_000, 200);
  assert.is(cdr.disposition, 'answered');
}));

/** An INVITE from a1's user to a2's, from `port`, over TLS. */
function inviteText(a2: Replica, port: number, callId: string): string {
  const { host, port: sipPort } = a2.sipOf('tls');
  return [
    `INVITE sip:${CALLEE}@${host}:${sipPort};transport=tls SIP/2.0`,
    `Via: SIP/2.0/TLS ${LOCALHOST}:${port};branch=z9hG4bK-${callId};rport`,
    'Max-Forwards: 70',
    `From: <sip:${CALLER}@${DOMAIN}>;tag=forged`,
    `To: <sip:${CALLEE}@${DOMAIN}>`,
    `Call-ID: ${callId}`,
    'CSeq: 1 INVITE',
    `Contact: <sip:${CALLER}@${LOCALHOST}:${port};transport=tls>`,
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

tlsSuite('forged peers over TLS: another CA\'s certificate, or the fleet CA\'s naming another site\'s box with a1\'s real signature: 403, logged', explained(async (ctx) => {
  const [a1, a2] = ctx.cluster.nodes as [Replica, Replica];
  // 1. A certificate from another CA naming a1, and a made-up signature.
  const other = await testFleet('elsewhere');
  try {
    const creds = await other.credentialsFor('a1', 'a');
    const forger = await openSipTls({ ...a2.sipOf('tls'), ca: caOf(a2), key: creds.key, cert: creds.cert });
    try {
      const ts = Math.floor(Date.now() / 1000);
      forger.send(inviteText(a2, forger.port, 'forged-tls-1').replace('Content-Length: 0', `${NODE_HEADER}: a1;ts=${ts};sig=${Buffer.alloc(64, 7).toString('base64')}\r\nContent-Length: 0`));
      const res = await forger.final();
      assert.is(res.status, 403);
    } finally {
      forger.close();
    }
  } finally {
    other.dispose();
  }
  const first = await a2.waitForLog('inter-box request refused', 5_000, (l) => l['callId'] === 'forged-tls-1');
  assert.equal([first.line['node'], first.line['reason']], ['a1', 'bad-signature']);

  // 2. The fleet's CA (read from the hub's data dir) certifies b1 of site b; the INVITE carries a1's genuine signature.
  const authority = await CertificateAuthority.loadOrCreate({ dataDir: ctx.cluster.hub.dataDir, hubId: 'hub', caDays: 1, clock: createSystemClock() });
  const key = newTlsKey();
  const cert = await authority.issue({ identity: { nodeId: 'b1', site: 'b', role: 'node', nodeKey: undefined }, publicKey: spkiOfKey(createPrivateKey(key)), days: 1 });
  const thief = await openSipTls({ ...a2.sipOf('tls'), ca: caOf(a2), key, cert });
  try {
    const parsed = parseMessage(Buffer.from(inviteText(a2, thief.port, 'forged-tls-2')));
    if (!parsed.ok || parsed.message.type !== 'request') throw new HarnessError('the test INVITE does not parse');
    const signer = new NodeAssertion({ nodeId: 'a1', site: 'a', signer: NodeKey.loadOrCreate(a1.dataDir), keyOf: () => undefined, verify: verifySignature, clock: createSystemClock() });
    parsed.message.headers.set(NODE_HEADER, signer.stamp(parsed.message));
    thief.send(serializeMessage(parsed.message).toString('latin1'));
    const res = await thief.final();
    assert.is(res.status, 403);
  } finally {
    thief.close();
  }
  const second = await a2.waitForLog('inter-box request refused', 5_000, (l) => l['callId'] === 'forged-tls-2');
  assert.equal([second.line['node'], second.line['reason'], second.line['certified']], ['a1', 'certificate-mismatch', 'b1']);
}));

tlsSuite.run();
