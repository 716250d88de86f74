import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { TraceSection } from './trace-schema.ts';

const test = suite('TraceSection');

test('no hep: nothing exported; hep with only an address gets the defaults', () => {
  assert.equal(TraceSection.parse({}), {});
  assert.equal(TraceSection.parse({ hep: { address: 'homer.lan:9060' } }), { hep: { address: { host: 'homer.lan', port: 9060 }, captureId: 2001, rtcp: true } });
});

test('an IPv6 collector in brackets, a capture id and a password', () => {
  assert.equal(TraceSection.parse({ hep: { address: '[2001:db8::5]:9060', captureId: 7, password: 'k', rtcp: false } }), {
    hep: { address: { host: '2001:db8::5', port: 9060 }, captureId: 7, password: 'k', rtcp: false },
  });
});

test('bad addresses and unknown keys are refused with the key and the reason', () => {
  const issues = (v: unknown) => {
    const r = TraceSection.safeParse(v);
    return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };
  assert.equal(issues({ hep: { address: '192.0.2.5' } }), ['hep.address: must be "host:port", e.g. "192.0.2.5:9060"']);
  assert.equal(issues({ hep: { address: '192.0.2.5:0' } }), ['hep.address: port is out of range 1-65535']);
  assert.equal(issues({ hep: { address: '192.0.2.5:70000' } }), ['hep.address: port is out of range 1-65535']);
  assert.equal(issues({ hep: { address: 'h:9060', captureId: -1 } }).length, 1);
  assert.equal(issues({ hep: { address: 'h:9060', pasword: 'x' } }).length, 1);
});

test.run();
