/**
 * A call out through a trunk whose gateway speaks only G.729: `outpost trunk add pstn` (codec
 * preference G729) and a dial-plan route `0.` → trunk pstn, strip 1. A sipp caller (digest auth,
 * G.711 A-law from g711a.pcap) dials 0 5551234; the gateway is a SIP callee in this process that
 * answers with G.729 only. The box must send the INVITE to the trunk's address with the number
 * in the Request-URI, offer G.729 there (the caller offered only PCMA), and transcode: what
 * reaches the gateway is G.729 (payload type 18, 20 bytes per 20 ms), and the CDR shows PCMA on
 * the caller's leg and G729 on the trunk's.
 * Runs alone too: node --import tsx test/integration/calls-trunk.test.ts
 */
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { addUsers, callNodeSections, describeSipp, freeUdpPorts, listCdrs, passwordOf, spawnSipp, SIPP_SCENARIOS } from '../helpers/calls.ts';
import { runCli, startNode, tempDir, writeNodeConfig, type NodeProcess } from '../../bench/lib/node-process.ts';
import { SipCallee, g729Answer } from '../../bench/lib/sip-callee.ts';
import { sippCounts } from '../../bench/lib/sipp.ts';
import { waitFor } from '../../bench/lib/wait-for.ts';

const DOMAIN = 'calls-trunk.example';
const PORT_RANGE: [number, number] = [34000, 34499];
const CALLER = '1001';
const NUMBER = '5551234';

interface Ctx {
  dir: string;
  node: NodeProcess;
  gateway: SipCallee;
}

const trunk = suite<Ctx>('a call out through a G.729 trunk');

trunk.before(async (ctx) => {
  ctx.dir = tempDir('outpost-calls-trunk-');
  const config = writeNodeConfig(ctx.dir, callNodeSections({ portRange: PORT_RANGE }), DOMAIN);
  addUsers(join(ctx.dir, 'data'), DOMAIN, [CALLER]);
  ctx.gateway = await SipCallee.start(g729Answer);
  for (const args of [
    ['trunk', 'add', 'pstn', '--host', '127.0.0.1', '--port', String(ctx.gateway.sipPort), '--codecs', 'G729'],
    ['route', 'add', '0.', '--action', 'trunk', '--target', 'pstn', '--strip', '1'],
  ]) {
    const res = await runCli([...args, '--config', config], ctx.dir);
    assert.is(res.code, 0, `outpost ${args.join(' ')}: ${res.stderr}`);
  }
  ctx.node = await startNode(config, ctx.dir);
});

trunk.after(async (ctx) => {
  ctx.gateway?.close();
  assert.is(await ctx.node?.stop(), 0, 'node stops cleanly on SIGTERM');
});

trunk('the caller\'s PCMA reaches the G.729-only gateway as G.729; the CDR names both codecs', async (ctx) => {
  const uac = spawnSipp({
    scenario: join(SIPP_SCENARIOS, 'call-uac.xml'), dir: ctx.dir, name: 'trunk-uac', port: await freeUdpPorts(1), mediaPort: await freeUdpPorts(4),
    target: ctx.node.udp, injection: [`${CALLER};[authentication username=${CALLER} password=${passwordOf(CALLER)}];${DOMAIN};0${NUMBER}`],
    calls: 1, rate: 1, timeoutS: 30,
  });
  const res = await uac.done;
  assert.equal(sippCounts(res.stdout), { successful: 1, failed: 0 }, describeSipp('caller', uac, res));

  const invite = ctx.gateway.requests.find((r) => r.method === 'INVITE');
  assert.ok(invite, 'the gateway got an INVITE');
  assert.is(invite.uri, `sip:${NUMBER}@127.0.0.1:${ctx.gateway.sipPort}`);
  assert.match(invite.body, /^m=audio \d+ RTP\/AVP 8 101 18( \d+)*\r?$/m, 'the caller\'s formats first, then G.729 added by the box');
  assert.match(invite.body, /a=rtpmap:18 G729\/8000/);
  assert.not.match(invite.body, /opus|G722/, 'only the trunk\'s codecs are added');

  const rtp = ctx.gateway.rtp;
  assert.ok(rtp.length >= 50, `about 2 s of audio reached the gateway: ${rtp.length} packets`);
  const kinds = [...new Set(rtp.map((p) => `${p.payloadType}/${p.payloadLength}`))];
  assert.equal(kinds, ['18/20'], `payload type/bytes that arrived: ${kinds.join(', ')}`);

  const cdr = await waitFor(async () => (await listCdrs(ctx.node)).find((c) => c.callee === NUMBER), 'the CDR of the trunk call');
  assert.is(cdr.disposition, 'answered');
  assert.is(cdr.codecA, 'PCMA/8000');
  assert.is(cdr.codecB, 'G729/8000');
  const a = cdr.media.a?.transcoded;
  assert.ok(a && a.decoded >= 50 && a.sent >= 50, `the caller's audio was transcoded: ${JSON.stringify(cdr.media)}`);
  await waitFor(() => ctx.gateway.requests.some((r) => r.method === 'BYE'), 'the caller\'s BYE to reach the gateway', 5_000);
});

trunk('a disabled trunk: the call is refused (503) and nothing reaches the gateway', async (ctx) => {
  const res = await runCli(['trunk', 'add', 'pstn', '--host', '127.0.0.1', '--port', String(ctx.gateway.sipPort), '--disabled', '--config', ctx.node.configFile], ctx.dir);
  assert.is(res.code, 0, res.stderr);
  const uac = spawnSipp({
    scenario: join(SIPP_SCENARIOS, 'call-uac.xml'), dir: ctx.dir, name: 'trunk-disabled-uac', port: await freeUdpPorts(1), mediaPort: await freeUdpPorts(4),
    target: ctx.node.udp, injection: [`${CALLER};[authentication username=${CALLER} password=${passwordOf(CALLER)}];${DOMAIN};0${NUMBER}`],
    calls: 1, rate: 1, timeoutS: 15,
  });
  const out = await uac.done;
  assert.equal(sippCounts(out.stdout), { successful: 0, failed: 1 }, describeSipp('caller', uac, out));
  assert.match(out.stdout + out.stderr, /503/, describeSipp('caller', uac, out));
  assert.is(ctx.gateway.requests.filter((r) => r.method === 'INVITE').length, 1, 'no second INVITE reached the gateway');
});

trunk.run();
