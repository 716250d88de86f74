import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ConfigSchema } from '../config/schema.ts';
import { ManualClock } from '../lib/clock.ts';
import { createSilentLogger } from '../lib/logger.ts';
import { DigestAuthenticator } from '../sip/auth/digest-authenticator.ts';
import { SipHeaders, type SipRequest, type SipResponse } from '../sip/message/sip-message.ts';
import { Store } from '../store/store.ts';
import { FloodGuard } from './flood-guard.ts';
import { Registrar } from './registrar.ts';
import { CallController } from './calls/call-controller.ts';
import { UdpMediaRelay } from '../media/udp-media-relay.ts';
import { SipEndpoint } from '../sip/sip-endpoint.ts';
import { RequestDispatcher } from './request-dispatcher.ts';

const config = ConfigSchema.parse({ node: { id: 'a1', site: 's' }, dataDir: '/unused', sip: { domain: 'd.example', listen: ['udp:127.0.0.1:0'] } });
const SOURCE = { protocol: 'udp' as const, address: '192.0.2.1', port: 5060 };

function dispatcher(): { d: RequestDispatcher; store: Store } {
  const clock = new ManualClock();
  const logger = createSilentLogger();
  const store = Store.open({ dataDir: mkdtempSync(join(tmpdir(), 'outpost-disp-')) });
  const flood = new FloodGuard(config.sip.flood, { clock, store, nodeId: 'a1', logger });
  const authenticator = new DigestAuthenticator({ realm: 'd.example', clock });
  const registrar = new Registrar({ store, nodeId: 'a1', domain: 'd.example', config: config.sip.registrar, authenticator, flood, clock, logger });
  // Built but never started: no socket is opened by these tests.
  const endpoint = new SipEndpoint({ listen: config.sip.listen, clock, logger, admit: () => true, user: { onRequest: () => undefined } });
  const relay = new UdpMediaRelay({ address: '127.0.0.1', portRange: [40000, 40099], timeoutMs: 30_000, clock, logger });
  const calls = new CallController({
    endpoint, store, relay, authenticator, flood, nodeId: 'a1', domain: 'd.example', config: config.calls, codecs: { available: [], boxDefault: config.rtp.codecs }, timers: { t1: 500, t2: 4000 }, clock, logger,
  });
  return { d: new RequestDispatcher({ registrar, calls, userAgent: 'outpost-test', logger }), store };
}

function request(method: string, uri: string, extra: Array<[string, string]> = [], body = ''): SipRequest {
  return {
    type: 'request',
    method,
    uri,
    version: 'SIP/2.0',
    headers: new SipHeaders([
      { name: 'Via', value: 'SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK-1' },
      { name: 'From', value: '<sip:a@d.example>;tag=1' },
      { name: 'To', value: '<sip:b@d.example>' },
      { name: 'Call-ID', value: 'c1' },
      { name: 'CSeq', value: `1 ${method}` },
      ...extra.map(([name, value]) => ({ name, value })),
    ]),
    body: Buffer.from(body),
  };
}

async function answer(req: SipRequest): Promise<SipResponse> {
  const { d, store } = dispatcher();
  let res: SipResponse | undefined;
  let calls = 0;
  const respond = (r: SipResponse) => {
    res = r;
    calls++;
  };
  await d.dispatch({ request: req, source: SOURCE, transport: undefined!, transaction: undefined!, respond });
  store.close();
  assert.is(calls, 1, 'respond is called exactly once');
  return res!;
}

const inspect = suite('RequestDispatcher.dispatch');

inspect('OPTIONS: 200 with Allow, Accept, Supported and Server (RFC 3261 §11.2)', async () => {
  const res = await answer(request('OPTIONS', 'sip:d.example'));
  assert.is(res.status, 200);
  assert.is(res.headers.get('allow'), 'INVITE, ACK, BYE, CANCEL, OPTIONS, REGISTER, UPDATE, INFO, PRACK, MESSAGE, NOTIFY');
  assert.is(res.headers.get('accept'), 'application/sdp');
  assert.is(res.headers.get('supported'), 'path, 100rel, timer');
  assert.is(res.headers.get('server'), 'outpost-test');
});

inspect('a SIP method not served gets 405 with Allow; an unknown one 501 (§8.2.1, §21.5.2)', async () => {
  for (const m of ['SUBSCRIBE', 'REFER', 'PUBLISH', 'MESSAGE']) {
    const res = await answer(request(m, 'sip:b@d.example'));
    assert.is(res.status, 405, m);
    assert.match(res.headers.get('allow')!, /^INVITE, ACK, BYE/);
  }
  assert.is((await answer(request('NEWMETHOD', 'sip:b@d.example'))).status, 501);
});

inspect('a non-SIP Request-URI scheme gets 416 (§8.2.2.1)', async () => {
  assert.is((await answer(request('OPTIONS', 'soap.beep://192.0.2.103:3002'))).status, 416);
  assert.is((await answer(request('OPTIONS', 'nobodyKnowsThisScheme:totallyopaquecontent'))).status, 416);
});

inspect('an unsupported Require gets 420 listing it in Unsupported; path is supported (§8.2.2.3)', async () => {
  const res = await answer(request('OPTIONS', 'sip:d.example', [['Require', 'nothingSupportsThis'], ['Require', '100rel']]));
  assert.is(res.status, 420);
  assert.is(res.headers.get('unsupported'), 'nothingSupportsThis');
  assert.is((await answer(request('OPTIONS', 'sip:d.example', [['Require', 'path']]))).status, 200);
});

inspect('a body of an unknown type gets 415 with Accept (§8.2.3)', async () => {
  const res = await answer(request('INVITE', 'sip:d.example', [['Content-Type', 'application/unknownformat']], 'xyz'));
  assert.is(res.status, 415);
  const info = request('INFO', 'sip:d.example', [['Content-Type', 'application/dtmf-relay']], 'Signal=1');
  info.headers.set('To', '<sip:b@d.example>;tag=gone');
  assert.is((await answer(info)).status, 481, 'other bodies are not inspected, only passed on');
  const picky = await answer(request('INVITE', 'sip:d.example', [['Accept', 'text/nobodyKnowsThis'], ['Content-Type', 'application/sdp']], 'v=0'));
  assert.is(picky.status, 406);
  assert.is(res.headers.get('accept'), 'application/sdp');
});

inspect('INVITE reaches the call controller (407 challenge); a BYE outside any call gets 481', async () => {
  const invite = await answer(request('INVITE', 'sip:b@d.example', [['Contact', '<sip:a@192.0.2.1>'], ['Content-Type', 'application/sdp']], 'v=0'));
  assert.is(invite.status, 407);
  assert.ok(invite.headers.get('proxy-authenticate'));
  const bye = request('BYE', 'sip:b@d.example');
  bye.headers.set('To', '<sip:b@d.example>;tag=nope');
  assert.is((await answer(bye)).status, 481);
});

inspect('REGISTER reaches the registrar (401 challenge)', async () => {
  const res = await answer(request('REGISTER', 'sip:d.example', [['Contact', '<sip:b@192.0.2.1>']]));
  assert.is(res.status, 401);
  assert.ok(res.headers.get('www-authenticate'));
});

inspect.run();
