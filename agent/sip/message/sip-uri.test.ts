import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { isSipParseError } from './errors.ts';
import { formatUri, parseUri, uriEqual } from './sip-uri.ts';

const Parse = suite('parseUri');

Parse('reads every part of a SIP URI', () => {
  const u = parseUri('sips:alice:secret@Atlanta.example.com:5061;transport=TCP;lr?Subject=Hi%20there&Priority=urgent');
  assert.equal(u, {
    scheme: 'sips',
    user: 'alice',
    password: 'secret',
    host: 'Atlanta.example.com',
    port: 5061,
    params: new Map([['transport', 'TCP'], ['lr', null]]),
    headers: [['Subject', 'Hi there'], ['Priority', 'urgent']],
  });
});

Parse('lower-cases the scheme and parameter names, unescapes once', () => {
  const u = parseUri('SIP:%61lice@h.example.com;%6C%72;Name=v%61lue%25%34%31');
  assert.equal([u.scheme, u.user], ['sip', 'alice']);
  assert.equal([...u.params], [['lr', null], ['name', 'value%41']]);
});

Parse('user part may hold ; ? / , and escaped @ (RFC 4475 §3.1.1.9)', () => {
  assert.is(parseUri('sip:user;par=u%40example.net@example.com').user, 'user;par=u@example.net');
  assert.is(parseUri('sip:a?b/c,d@h.example.com').user, 'a?b/c,d');
  assert.is(parseUri('sip:%00@h.example.com').user, '\0');
});

Parse('IPv6 references (RFC 5118)', () => {
  assert.equal([parseUri('sip:[2001:db8::10]:5070').host, parseUri('sip:[2001:db8::10]:5070').port], ['[2001:db8::10]', 5070]);
  assert.is(parseUri('sip:[2001:db8::10:5070]').port, undefined);
  assert.is(parseUri('sip:u@[::ffff:192.0.2.1]').host, '[::ffff:192.0.2.1]');
  for (const bad of ['sip:2001:db8::10', 'sip:[2001:db8:::192.0.2.1]', 'sip:[2001:db8::10', 'sip:[1:2:3:4:5:6:7:8:9]']) {
    assert.throws(() => parseUri(bad), isSipParseError, bad);
  }
});

Parse('tel and other absolute URIs', () => {
  const t = parseUri('tel:+1-201-555-0123;phone-context=example.com');
  assert.equal([t.scheme, t.user, t.host, [...t.params]], ['tel', '+1-201-555-0123', '', [['phone-context', 'example.com']]]);
  assert.is(parseUri('tel:7042;phone-context=example.com').user, '7042');
  assert.is(parseUri('urn:service:sos').opaque, 'service:sos');
  assert.is(parseUri('soap.beep://192.0.2.103:3002').scheme, 'soap.beep');
  for (const bad of ['tel:', 'tel:+', 'tel:12 34', 'http:', 'x:a b', 'x:<y>']) assert.throws(() => parseUri(bad), isSipParseError, bad);
});

Parse('refuses malformed SIP URIs', () => {
  const cases = [
    '', 'sip', ':x', '<sip:a@b>', 'sip:', 'sip:@h.example.com', 'sip:a@', 'sip:a@h.example.com:', 'sip:a@h.example.com:65536',
    'sip:a@h.example.com;', 'sip:a@h.example.com;x=', 'sip:a@h.example.com;lr;lr', 'sip:a@h.example.com?x',
    'sip:a@h.example.com; lr', 'sip:a b@h.example.com', 'sip:a%2@h.example.com', 'sip:a@300.1.1.1', 'sip:a@h.example.com>',
  ];
  for (const c of cases) assert.throws(() => parseUri(c), isSipParseError, c);
});

const Format = suite('formatUri');

Format('writes back what it parsed, escaping where needed', () => {
  const text = 'sip:alice:pw@h.example.com:5060;transport=tcp;lr?Subject=Hi%20there';
  assert.is(formatUri(parseUri(text)), text);
  assert.is(formatUri(parseUri('sip:%61lice@h.example.com')), 'sip:alice@h.example.com');
  assert.is(formatUri(parseUri('sip:I%20have%20spaces@h.example.com')), 'sip:I%20have%20spaces@h.example.com');
  assert.is(formatUri(parseUri('sip:[2001:db8::1]:5070;maddr=[2001:db8::2]')), 'sip:[2001:db8::1]:5070;maddr=[2001:db8::2]');
  assert.is(formatUri(parseUri('tel:+1-201-555-0123;ext=1')), 'tel:+1-201-555-0123;ext=1');
  assert.is(formatUri(parseUri('urn:service:sos')), 'urn:service:sos');
});

Format('escapes @ : and non-ASCII in the user part as UTF-8', () => {
  const out = formatUri({ scheme: 'sip', user: 'a@b:é', host: 'h.example.com', params: new Map(), headers: [] });
  assert.is(out, 'sip:a%40b%3A%C3%A9@h.example.com');
  assert.is(parseUri(out).user, 'a@b:é');
});

const Equal = suite('uriEqual');

Equal('RFC 3261 §19.1.4 equivalent pairs', () => {
  const pairs = [
    ['sip:%61lice@atlanta.com;transport=TCP', 'sip:alice@AtLanTa.CoM;Transport=tcp'],
    ['sip:carol@chicago.com', 'sip:carol@chicago.com;newparam=5'],
    ['sip:carol@chicago.com;security=on', 'sip:carol@chicago.com;newparam=5'],
    ['sip:biloxi.com;transport=tcp;method=REGISTER?to=sip:bob%40biloxi.com', 'sip:biloxi.com;method=REGISTER;transport=tcp?to=sip:bob%40biloxi.com'],
    ['sip:alice@atlanta.com?subject=project%20x&priority=urgent', 'sip:alice@atlanta.com?priority=urgent&subject=project%20x'],
    ['sip:u@[2001:db8::1]', 'sip:u@[2001:DB8:0:0::1]'],
    ['tel:+1-201-555-0123', 'tel:+12015550123'],
  ];
  for (const [a, b] of pairs) assert.ok(uriEqual(a!, b!), `${a} = ${b}`);
});

Equal('RFC 3261 §19.1.4 non-equivalent pairs', () => {
  const pairs = [
    ['SIP:ALICE@AtLanTa.CoM;Transport=udp', 'sip:alice@AtLanTa.CoM;Transport=UDP'],
    ['sip:bob@biloxi.com', 'sip:bob@biloxi.com:5060'],
    ['sip:bob@biloxi.com', 'sip:bob@biloxi.com;transport=udp'],
    ['sip:bob@biloxi.com', 'sip:bob@biloxi.com:6000;transport=tcp'],
    ['sip:carol@chicago.com', 'sip:carol@chicago.com?Subject=next%20meeting'],
    ['sip:bob@phone21.boxesbybob.com', 'sip:bob@192.0.2.4'],
    ['sip:a@h.example.com', 'sips:a@h.example.com'],
    ['sip:a@h.example.com;maddr=x.example.com', 'sip:a@h.example.com'],
    ['sip:a@h.example.com;user=phone', 'sip:a@h.example.com'],
    ['sip:a@h.example.com', 'not a uri'],
  ];
  for (const [a, b] of pairs) {
    assert.not.ok(uriEqual(a!, b!), `${a} != ${b}`);
    assert.not.ok(uriEqual(b!, a!), `${b} != ${a}`);
  }
});

Parse.run();
Format.run();
Equal.run();
