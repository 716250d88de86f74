import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { isDialogError } from './errors.ts';
import { isLooseRouter, requestTarget, routeSetFrom } from './route-set.ts';
import { answerAtAlice, inviteAtBob } from './test-support.ts';

const From = suite('routeSetFrom');

From('UAS keeps Record-Route order, UAC reverses it, parameters kept (RFC 3261 §12.1.1, §12.1.2)', () => {
  assert.equal(routeSetFrom(inviteAtBob(), 'uas'), ['sip:ss2.biloxi.example.com;lr', 'sip:ss1.atlanta.example.com;lr']);
  assert.equal(routeSetFrom(answerAtAlice(200), 'uac'), ['sip:ss1.atlanta.example.com;lr', 'sip:ss2.biloxi.example.com;lr']);
  const one = inviteAtBob();
  one.headers.set('Record-Route', '"P" <sip:p.example.com;lr;transport=tcp>;foo=bar');
  assert.equal(routeSetFrom(one, 'uas'), ['sip:p.example.com;lr;transport=tcp']);
});

From('none → empty; unreadable → dialog.invalid-message', () => {
  const none = inviteAtBob();
  none.headers.remove('record-route');
  assert.equal(routeSetFrom(none, 'uac'), []);
  none.headers.append('Record-Route', '<bad');
  assert.throws(() => routeSetFrom(none, 'uas'), (e: unknown) => isDialogError(e, 'dialog.invalid-message'));
});

const Target = suite('requestTarget');

Target('empty route set: remote target, no Route (RFC 3261 §12.2.1.1)', () => {
  assert.equal(requestTarget('sip:bob@192.0.2.4', []), { requestUri: 'sip:bob@192.0.2.4', routes: [] });
});

Target('loose router first: remote target, every route in order (§12.2.1.1)', () => {
  assert.equal(requestTarget('sip:bob@192.0.2.4', ['sip:p1.example.com;lr', 'sip:p2.example.com']), {
    requestUri: 'sip:bob@192.0.2.4',
    routes: ['<sip:p1.example.com;lr>', '<sip:p2.example.com>'],
  });
});

Target('strict router first: it becomes the Request-URI, the remote target the last Route (§12.2.1.1)', () => {
  assert.equal(requestTarget('sip:bob@192.0.2.4', ['sip:p1.example.com', 'sip:p2.example.com;lr']), {
    requestUri: 'sip:p1.example.com',
    routes: ['<sip:p2.example.com;lr>', '<sip:bob@192.0.2.4>'],
  });
  assert.equal(requestTarget('sip:bob@192.0.2.4', ['sip:p1.example.com;method=INVITE;transport=tcp?X=1']).requestUri, 'sip:p1.example.com;transport=tcp', 'method and headers removed (§19.1.1)');
});

const Loose = suite('isLooseRouter');

Loose('lr parameter present, in any case; unparseable URIs are strict', () => {
  assert.ok(isLooseRouter('sip:p.example.com;lr'));
  assert.ok(isLooseRouter('sip:p.example.com;LR=on'));
  assert.not.ok(isLooseRouter('sip:p.example.com;transport=udp'));
  assert.not.ok(isLooseRouter('not a uri'));
});

From.run();
Target.run();
Loose.run();
