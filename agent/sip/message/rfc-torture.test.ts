import { createHash } from 'node:crypto';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { type TortureFixture, loadTortureFixtures } from '../../../test/fixtures/sip/load-fixtures.ts';
import { createResponse } from './create-response.ts';
import { parseCSeq } from './cseq.ts';
import { parseNameAddr } from './name-addr.ts';
import { parseMessage } from './parse-message.ts';
import { serializeMessage } from './serialize-message.ts';
import type { SipMessage, SipRequest, SipResponse } from './sip-message.ts';
import { parseUri } from './sip-uri.ts';
import { parseVia } from './via.ts';

const fixtures = loadTortureFixtures();
const Torture = suite('parseMessage: RFC 4475 and RFC 5118 torture messages');

const vias = (m: SipMessage) => m.headers.getAll('via').map(parseVia);
const addr = (m: SipMessage, name: string) => parseNameAddr(m.headers.get(name)!);
const req = (m: SipMessage) => m as SipRequest;

/** Key fields per message, beyond "it parses and round-trips". */
const CHECKS: Record<string, (m: SipMessage) => void> = {
  'wsinv.dat': (m) => {
    const v = vias(m);
    assert.equal(v.map((x) => [x.transport, x.host, x.branch]), [
      ['UDP', '192.0.2.2', '390skdjuw'],
      ['TCP', 'spindle.example.com', 'z9hG4bK9ikj8'],
      ['UDP', '192.168.255.111', 'z9hG4bK30239'],
    ]);
    assert.is(addr(m, 'to').tag, '1918181833n');
    assert.is(addr(m, 'from').displayName, 'J Rosenberg \\"');
    assert.is(addr(m, 'from').tag, '98asjd8');
    assert.equal(parseCSeq(m.headers.get('cseq')!), { seq: 9, method: 'INVITE' });
    assert.is(m.headers.get('max-forwards'), '0068');
    assert.is(m.headers.get('subject'), '');
    assert.is(m.headers.get('newfangledheader'), 'newfangled value continued newfangled value');
    const contact = addr(m, 'contact');
    assert.is(contact.displayName, 'Quoted string ""');
    assert.is(contact.q, 0.33);
    assert.is(contact.params.get('newparam'), 'newvalue');
    assert.is(contact.params.get('secondparam'), null);
    assert.is(m.body.length, 150);
  },
  'intmeth.dat': (m) => {
    const uri = parseUri(req(m).uri);
    assert.is(uri.user, "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*");
    assert.is(uri.password, "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)");
    assert.is(addr(m, 'to').displayName, 'BEL:\x07 NUL:\x00 DEL:\x7f');
    const from = addr(m, 'from');
    assert.is(from.displayName, "token1~` token2'+_ token3*%!.-");
    assert.is(from.params.get("fromparam''~+*_!.-%"), '"работающий"');
    assert.is(from.tag, "_token~1'+`*%!-.");
    assert.is(m.headers.get('call-id'), 'intmeth.word%ZK-!.*_+\'@word`~)(><:\\/"][?}{');
    assert.is(m.headers.get("extensionheader-!.%*+_`'~"), '\ufeff大停電');
  },
  'esc01.dat': (m) => {
    assert.is(parseUri(req(m).uri).user, 'sips:user@example.com');
    assert.is(parseUri(addr(m, 'to').uri).user, 'user');
    assert.is(parseUri(addr(m, 'from').uri).user, 'I have spaces');
    const contact = parseUri(addr(m, 'contact').uri);
    assert.is(contact.user, 'caller');
    assert.equal([...contact.params], [['lr', null], ['name', 'value%41']]);
  },
  'escnull.dat': (m) => {
    assert.is(parseUri(addr(m, 'to').uri).user, 'null-\0-null');
    const users = m.headers.getAll('contact').map((c) => parseUri(parseNameAddr(c).uri).user);
    assert.equal(users, ['\0', '\0\0']);
  },
  'esc02.dat': (m) => {
    assert.is(req(m).method, 'RE%47IST%45R');
    assert.is(addr(m, 'to').displayName, '%Z%45');
    assert.is(m.headers.getAll('contact').length, 2);
    assert.is(m.headers.get('c%6fntact'), '<sip:alias2@host2.example.com>');
  },
  'lwsdisp.dat': (m) => assert.equal([addr(m, 'from').displayName, addr(m, 'from').tag], ['caller', '323']),
  'longreq.dat': (m) => {
    assert.is(vias(m).length, 34);
    assert.is(vias(m)[33]!.received, '192.0.2.5');
    assert.ok(addr(m, 'to').displayName!.startsWith('I have a user name of extreme'));
    assert.is(parseUri(addr(m, 'to').uri).port, 6000);
    assert.is(m.body.length, 150);
  },
  'dblreq.dat': (m) => {
    assert.is(req(m).method, 'REGISTER');
    assert.is(m.body.length, 0);
    assert.is(m.headers.get('call-id'), 'dblreq.0ha0isndaksdj99sdfafnl3lk233412');
  },
  'semiuri.dat': (m) => {
    const uri = parseUri(req(m).uri);
    assert.equal([uri.user, uri.host, uri.params.size], ['user;par=u@example.net', 'example.com', 0]);
    assert.is(m.headers.getAll('accept').length, 6);
  },
  'transports.dat': (m) => assert.equal(vias(m).map((v) => v.transport), ['UDP', 'SCTP', 'TLS', 'UNKNOWN', 'TCP']),
  'mpart01.dat': (m) => {
    assert.is(m.body.length, 553);
    assert.ok(m.body.includes(0));
    assert.is(vias(m)[0]!.rport, true);
  },
  'unreason.dat': (m) => {
    assert.is((m as SipResponse).status, 200);
    assert.is((m as SipResponse).reason, '= 2**3 * 5**2 но сто девяносто девять - простое');
  },
  'noreason.dat': (m) => assert.equal([(m as SipResponse).status, (m as SipResponse).reason], [100, '']),
  'lwsstart.dat': (m) => {
    assert.is(req(m).uri, 'sip:user@example.com');
    assert.ok(serializeMessage(m).toString('latin1').startsWith('INVITE sip:user@example.com SIP/2.0\r\n'));
  },
  'trws.dat': (m) => {
    assert.is(req(m).uri, 'sip:remote-target@example.com');
    assert.ok(serializeMessage(m).toString('latin1').startsWith('OPTIONS sip:remote-target@example.com SIP/2.0\r\n'));
  },
  'baddate.dat': (m) => assert.is(m.headers.get('date'), 'Fri, 01 Jan 2010 16:00:00 EST'),
  'badbranch.dat': (m) => assert.is(vias(m)[0]!.branch, 'z9hG4bK'),
  'unkscm.dat': (m) => assert.equal(parseUri(req(m).uri).opaque, 'totallyopaquecontent'),
  'novelsc.dat': (m) => assert.is(parseUri(req(m).uri).scheme, 'soap.beep'),
  'unksm2.dat': (m) => {
    assert.is(parseUri(addr(m, 'to').uri).scheme, 'isbn');
    assert.is(parseUri(addr(m, 'from').uri).scheme, 'http');
    assert.is(parseUri(addr(m, 'contact').uri).scheme, 'name');
  },
  'bext01.dat': (m) => {
    assert.equal(m.headers.getAll('require'), ['nothingSupportsThis', 'nothingSupportsThisEither']);
    assert.equal(m.headers.getAll('proxy-require'), ['noProxiesSupportThis', 'norDoAnyProxiesSupportThis']);
  },
  'invut.dat': (m) => assert.is(m.headers.get('content-type'), 'application/unknownformat'),
  'regaut01.dat': (m) => assert.is(m.headers.get('authorization'), 'NoOneKnowsThisScheme opaque-data=here'),
  'bcast.dat': (m) => assert.is(vias(m)[1]!.host, '255.255.255.255'),
  'zeromf.dat': (m) => assert.is(m.headers.get('max-forwards'), '0'),
  'cparam01.dat': (m) => {
    const contact = addr(m, 'contact');
    assert.is(contact.uri, 'sip:+19725552222@gw1.example.net');
    assert.is(contact.params.get('unknownparam'), null);
    assert.is(parseUri(contact.uri).params.size, 0);
  },
  'cparam02.dat': (m) => {
    const contact = addr(m, 'contact');
    assert.is(contact.params.size, 0);
    assert.is(parseUri(contact.uri).params.get('unknownparam'), null);
  },
  'regescrt.dat': (m) => assert.equal(parseUri(addr(m, 'contact').uri).headers, [['Route', '<sip:sip.example.com>']]),
  'sdp01.dat': (m) => assert.is(m.headers.get('accept'), 'text/nobodyKnowsThis'),
  'inv2543.dat': (m) => {
    assert.is(vias(m)[0]!.branch, undefined);
    assert.is(addr(m, 'from').tag, undefined);
    assert.ok(m.body.toString('latin1').startsWith('v=0\r\n'));
    assert.is(m.headers.get('content-length'), String(m.body.length));
  },
  'ipv6-good.dat': (m) => {
    assert.is(parseUri(req(m).uri).host, '[2001:db8::10]');
    assert.is(vias(m)[0]!.host, '[2001:db8::9:1]');
    assert.is(parseUri(addr(m, 'contact').uri).host, '[2001:db8::1]');
  },
  'port-ambiguous.dat': (m) => {
    const uri = parseUri(req(m).uri);
    assert.equal([uri.host, uri.port], ['[2001:db8::10:5070]', undefined]);
  },
  'port-unambiguous.dat': (m) => {
    const uri = parseUri(req(m).uri);
    assert.equal([uri.host, uri.port], ['[2001:db8::10]', 5070]);
  },
  'via-received-param-with-delim.dat': (m) => assert.is(vias(m)[0]!.received, '2001:db8::9:255'),
  'via-received-param-no-delim.dat': (m) => assert.is(vias(m)[0]!.received, '2001:db8::9:255'),
  'ipv6-in-sdp.dat': (m) => assert.ok(m.body.toString('latin1').includes('c=IN IP6 2001:db8::20\r\n')),
  'mult-ip-in-header.dat': (m) => {
    assert.equal(vias(m).map((v) => [v.transport, v.host, v.port, v.received]), [
      ['UDP', '[2001:db8::9:1]', 6050, undefined],
      ['UDP', '192.0.2.1', undefined, undefined],
      ['TCP', '[2001:db8::9:255]', undefined, '192.0.2.200'],
    ]);
  },
  'mult-ip-in-sdp.dat': (m) => assert.ok(m.body.toString('latin1').includes('c=IN IP6 2001:db8::1\r\n')),
  'ipv4-mapped-ipv6.dat': (m) => {
    assert.equal([vias(m)[0]!.host, vias(m)[0]!.port], ['[::ffff:192.0.2.10]', 19823]);
    assert.is(parseUri(addr(m, 'contact').uri).host, '[::ffff:192.0.2.2]');
  },
  'ipv6-correct-abnf-2-colons.dat': (m) => assert.is(parseUri(addr(m, 'to').uri).host, '[2001:db8::192.0.2.1]'),
};

/** The RFC's codes for this message as a list ('none' and absent give []). */
function codes(fx: TortureFixture): number[] {
  const s = fx.entry.expect_status;
  return s === undefined || s === 'none' ? [] : Array.isArray(s) ? s : [s];
}

/** Our treatment must be one the RFC allows. */
function assertAllowedByRfc(fx: TortureFixture): void {
  const t = fx.treatment!;
  const { category, kind, liberal_ok } = fx.entry;
  const c = codes(fx);
  if (category === 'valid' || category === 'backward-compat') assert.is(t.outcome, 'parse', 'the RFC calls it valid');
  if (c.length > 0 && !c.includes(400) && !c.includes(505)) assert.is(t.outcome, 'parse', `the application must answer ${c}`);
  if (c.includes(505)) assert.equal([t.outcome, t.status], ['reject', 505]);
  if (category === 'invalid' && kind === 'request' && !liberal_ok) assert.is(t.outcome, 'reject', 'not well formed');
  if (t.outcome === 'reject' && kind === 'request' && c.length > 0) assert.ok(c.includes(t.status!), 'status allowed');
  if (kind === 'response') assert.is(t.status, undefined, 'a bad response is dropped, never answered');
}

function assertRoundTrip(m: SipMessage): void {
  const bytes = serializeMessage(m);
  const again = parseMessage(bytes);
  if (!again.ok) return assert.unreachable(`re-parse failed: ${again.error.message}`);
  assert.equal(again.message, m);
  assert.equal(serializeMessage(again.message), bytes);
}

Torture('every manifest entry has a treatment, and every treatment an entry', () => {
  assert.is(fixtures.length, 61);
  for (const fx of fixtures) assert.ok(fx.treatment, `no treatment for ${fx.rfc}/${fx.entry.file}`);
});

Torture('fixture files are byte-exact copies (sha256 and size from the manifests)', () => {
  for (const fx of fixtures) {
    assert.is(fx.raw.length, fx.entry.bytes, fx.entry.file);
    assert.is(createHash('sha256').update(fx.raw).digest('hex'), fx.entry.sha256, fx.entry.file);
  }
});

for (const fx of fixtures) {
  const { file, section, category } = fx.entry;
  Torture(`${fx.rfc} §${section} ${file} (${category})`, () => {
    const t = fx.treatment!;
    assertAllowedByRfc(fx);
    const r = parseMessage(fx.wire);
    if (t.outcome === 'parse') {
      if (!r.ok) return assert.unreachable(`expected to parse, got: ${r.error.message}`);
      assert.is(r.message.type, fx.entry.kind);
      assert.is(r.message.version, 'SIP/2.0');
      assert.is(r.message.headers.getAll('content-length').length, 1);
      assertRoundTrip(r.message);
      CHECKS[file]?.(r.message);
      return;
    }
    if (r.ok) return assert.unreachable('expected a parse error');
    assert.is(r.error.code, 'sip.parse');
    assert.is(r.error.reason, t.reason);
    assert.ok(r.error.offset >= 0 && r.error.offset <= fx.wire.length);
    if (fx.entry.kind === 'response') {
      assert.is(r.partial, undefined);
      return;
    }
    assert.is(r.error.status, t.status);
    // Enough to answer: the Via (response routing) and CSeq (transaction matching) are there.
    const partial = r.partial!;
    assert.ok(partial, 'a rejected request carries a partial request');
    assert.ok(partial.headers.has('via') && partial.headers.has('cseq'));
    const answer = createResponse(partial, r.error.status, r.error.reason);
    assert.equal(answer.headers.getAll('via'), partial.headers.getAll('via'));
    const wire = serializeMessage(answer).toString('utf8');
    assert.ok(wire.startsWith(`SIP/2.0 ${t.status} ${t.reason}\r\n`));
    // The 400 is well formed except for what it must copy from the request (RFC 3261 §8.2.6.2).
    const reparsed = parseMessage(Buffer.from(wire, 'utf8'));
    if (!reparsed.ok) {
      const inherited = r.error.header ?? reparsed.error.header;
      assert.is(reparsed.error.header, inherited, `our 400 has its own fault: ${reparsed.error.reason}`);
      assert.ok(['Via', 'From', 'To', 'Call-ID', 'CSeq'].includes(inherited!));
    }
  });
}

Torture('RFC 5118 messages as archived (bare LF) parse as well where the lengths allow', () => {
  for (const fx of fixtures.filter((f) => f.rfc === 'rfc5118' && f.treatment?.outcome === 'parse')) {
    if (fx.entry.wire_fixups?.includes('content-length')) continue;
    const r = parseMessage(fx.raw);
    assert.ok(r.ok, fx.entry.file);
  }
});

Torture.run();
