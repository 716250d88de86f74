/**
 * Every RFC 4475 and RFC 5118 torture message, sent to a running `outpost node` over UDP (and
 * over TCP where the manifest asks), must get the answer the RFC expects, and none may crash
 * the node. Where Outpost's answer differs from the manifest's end-to-end expectation, the
 * reason is listed in DEVIATIONS (and in docs/sip-conformance.md).
 * Runs alone too: node --import tsx test/integration/torture.test.ts
 */
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { loadTortureFixtures, type TortureFixture } from '../fixtures/sip/load-fixtures.ts';
import { startNode, tempDir, writeNodeConfig, type NodeProcess } from '../../bench/lib/node-process.ts';
import { optionsRequest, udpProbe } from '../helpers/udp-probe.ts';

/** Messages whose RFC expectation assumes features or policies this box does not have. */
const DEVIATIONS: Record<string, { status: number; why: string }> = {
  'cparam01.dat': { status: 401, why: 'REGISTER without credentials: this registrar always requires digest authentication' },
  'cparam02.dat': { status: 401, why: 'REGISTER without credentials: this registrar always requires digest authentication' },
  'regescrt.dat': { status: 401, why: 'REGISTER without credentials: this registrar always requires digest authentication' },
};

const NO_REPLY_WAIT_MS = 300;
const REPLY_WAIT_MS = 3000;

interface Ctx {
  dir: string;
  node: NodeProcess;
}

function sendTcp(bytes: Buffer, target: { host: string; port: number }, waitMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    let data = '';
    const sock = connect(target.port, target.host, () => sock.write(bytes));
    const done = (line: string | undefined) => {
      clearTimeout(timer);
      sock.destroy();
      resolve(line);
    };
    const timer = setTimeout(() => done(undefined), waitMs);
    sock.on('data', (c) => {
      data += c.toString('latin1');
      if (data.includes('\r\n')) done(data.split('\r\n')[0]);
    });
    sock.on('error', () => done(undefined));
    sock.on('close', () => done(data ? data.split('\r\n')[0] : undefined));
  });
}

/** The status Outpost must answer with, or 'none' for no reply. */
function expectedOf(f: TortureFixture): { status: number | number[] | 'none' | 'any-not-400'; reason?: string } {
  const dev = DEVIATIONS[f.entry.file];
  if (dev) return { status: dev.status };
  const t = f.treatment;
  if (f.entry.kind === 'response') return { status: 'none' };
  if (t?.outcome === 'reject') return t.status ? { status: t.status, reason: t.reason } : { status: 'none' };
  if (f.entry.expect_status !== undefined) return { status: f.entry.expect_status };
  // A valid request without a stated end-to-end answer: anything but a rejection as malformed.
  return { status: 'any-not-400' };
}

function check(f: TortureFixture, line: string | undefined, via: string): void {
  const want = expectedOf(f);
  const name = `${f.rfc}/${f.entry.file} over ${via}`;
  if (want.status === 'none') {
    assert.is(line, undefined, `${name}: expected no reply`);
    return;
  }
  assert.ok(line, `${name}: expected a reply`);
  const m = /^SIP\/2\.0 (\d{3}) (.*)$/.exec(line!);
  assert.ok(m, `${name}: bad status line ${line}`);
  const status = Number(m![1]);
  if (want.status === 'any-not-400') {
    assert.ok(status !== 400 && status !== 500, `${name}: a valid message got ${line}`);
  } else {
    const allowed = Array.isArray(want.status) ? want.status : [want.status];
    assert.ok(allowed.includes(status), `${name}: got ${line}, expected ${allowed.join(' or ')}`);
    if (want.reason) assert.is(m![2], want.reason, `${name}: reason phrase`);
  }
}

const torture = suite<Ctx>('RFC 4475 / RFC 5118 against a running node');

torture.before(async (ctx) => {
  ctx.dir = tempDir();
  ctx.node = await startNode(writeNodeConfig(ctx.dir, '', 'example.com'), ctx.dir);
});

torture.after(async (ctx) => {
  assert.is(await ctx.node?.stop(), 0, 'node still running and stops cleanly');
});

torture('every message not bound to datagrams gets the expected answer over TCP', async (ctx) => {
  // Over TCP the answer returns on the connection whatever the Via says; over UDP without
  // rport it goes to the Via's sent-by port (RFC 3261 §18.2.2), which the fixtures make up.
  const fixtures = loadTortureFixtures();
  assert.is(fixtures.length, 61, '49 RFC 4475 + 12 RFC 5118 messages');
  const overTcp = fixtures.filter((f) => !f.entry.udp_only);
  for (const f of overTcp) {
    const want = expectedOf(f);
    // A datagram ends the message; a stream needs the blank line that some archived files lack.
    const bytes = f.wire.includes('\r\n\r\n') ? f.wire : Buffer.concat([f.wire, Buffer.from('\r\n')]);
    check(f, await sendTcp(bytes, ctx.node.tcp, want.status === 'none' ? NO_REPLY_WAIT_MS : REPLY_WAIT_MS), 'tcp');
  }
});

torture('datagram-only messages the parser rejects get their answer over UDP (sent to the source)', async (ctx) => {
  const rejected = loadTortureFixtures().filter((f) => f.entry.udp_only && f.treatment?.outcome === 'reject');
  assert.ok(rejected.length >= 2);
  for (const f of rejected) {
    const want = expectedOf(f);
    check(f, await udpProbe(f.wire, ctx.node.udp, want.status === 'none' ? NO_REPLY_WAIT_MS : REPLY_WAIT_MS), 'udp');
  }
});

torture('every message over UDP, twice, leaves the node running', async (ctx) => {
  const sock = createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  for (let round = 0; round < 2; round++) {
    for (const f of loadTortureFixtures()) {
      await new Promise<void>((r) => sock.send(f.wire, ctx.node.udp.port, ctx.node.udp.host, () => r()));
    }
  }
  sock.close();
  assert.is(ctx.node.proc.exitCode, null);
});

torture('the node is alive and logged no error afterwards', async (ctx) => {
  assert.is(await udpProbe((port) => optionsRequest('example.com', '127.0.0.1', port), ctx.node.udp, REPLY_WAIT_MS), 'SIP/2.0 200 OK');
  const errors = ctx.node.logs.filter((l) => typeof l['level'] === 'number' && (l['level'] as number) >= 50);
  assert.equal(errors, []);
});

torture.run();
