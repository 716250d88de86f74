import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { hostEnd, hostKey, ipv4Octets, ipv6Groups, isHost, isIpAddress, readPort } from './host.ts';

const V6 = suite('ipv6Groups');

V6('valid forms, including :: and an embedded IPv4 address', () => {
  assert.equal(ipv6Groups('2001:db8::10'), [0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x10]);
  assert.equal(ipv6Groups('::'), [0, 0, 0, 0, 0, 0, 0, 0]);
  assert.equal(ipv6Groups('::ffff:192.0.2.10'), [0, 0, 0, 0, 0, 0xffff, 0xc000, 0x020a]);
  assert.equal(ipv6Groups('1:2:3:4:5:6:7:8'), [1, 2, 3, 4, 5, 6, 7, 8]);
  assert.equal(ipv6Groups('1:2:3:4:5:6:1.2.3.4'), [1, 2, 3, 4, 5, 6, 0x102, 0x304]);
});

V6('invalid forms (RFC 5118 §4.10 three colons among them)', () => {
  for (const s of ['2001:db8:::192.0.2.1', '1::2::3', '1:2:3:4:5:6:7', '1:2:3:4:5:6:7:8:9', '12345::', 'g::', ':1::', '1.2.3.4::', '']) {
    assert.is(ipv6Groups(s), undefined, s);
  }
});

const V4 = suite('ipv4Octets');

V4('dotted quads only', () => {
  assert.equal(ipv4Octets('192.0.2.255'), [192, 0, 2, 255]);
  for (const s of ['256.0.0.1', '1.2.3', '1.2.3.4.5', '1..2.3', '1.2.3.4.', '0001.2.3.4', 'a.b.c.d', '']) assert.is(ipv4Octets(s), undefined, s);
});

const Hosts = suite('hostEnd / isHost / isIpAddress');

Hosts('host names, IPv4, bracketed IPv6', () => {
  assert.is(hostEnd('example.com:5060', 0), 11);
  assert.is(hostEnd('x[::1]:5', 1), 6);
  assert.ok(isHost('a-b_c.example.com') && isHost('192.0.2.1') && isHost('[::1]'));
  assert.not.ok(isHost('1.2.3') || isHost('[::1') || isHost('::1') || isHost(''));
  assert.ok(isIpAddress('192.0.2.1') && isIpAddress('::1') && isIpAddress('[::1]'));
  assert.not.ok(isIpAddress('example.com'));
});

const Ports = suite('readPort / hostKey');

Ports('ports up to 65535; host keys compare IPv6 by value', () => {
  assert.equal(readPort('5060;x', 0), [5060, 4]);
  assert.is(readPort('65536', 0), undefined);
  assert.is(readPort('x', 0), undefined);
  assert.is(hostKey('[2001:DB8::1]'), hostKey('[2001:db8:0:0:0:0:0:1]'));
  assert.is(hostKey('Example.COM'), 'example.com');
});

V6.run();
V4.run();
Hosts.run();
Ports.run();
