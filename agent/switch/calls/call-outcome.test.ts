import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { answerForCaller, bestFailure } from './call-outcome.ts';

const outcome = suite('call outcome');

outcome('the best fork failure: 6xx, then busy, then 4xx, then timeout, then 5xx (RFC 3261 §16.7)', () => {
  const f = (status: number) => ({ status, reason: String(status) });
  assert.is(bestFailure([f(480), f(603), f(486)]).status, 603);
  assert.is(bestFailure([f(480), f(486), f(408)]).status, 486);
  assert.is(bestFailure([f(503), f(408), f(404)]).status, 404);
  assert.is(bestFailure([f(503), f(408)]).status, 408);
  assert.is(bestFailure([]).status, 480);
});

outcome('486/480/408/603 mapping towards the caller with CDR dispositions', () => {
  assert.equal(answerForCaller({ status: 600, reason: 'Busy Everywhere' }), { status: 486, reason: 'Busy Here', disposition: 'busy' });
  assert.equal(answerForCaller({ status: 408, reason: 'x' }), { status: 408, reason: 'Request Timeout', disposition: 'no-answer' });
  assert.equal(answerForCaller({ status: 503, reason: 'x' }), { status: 480, reason: 'Temporarily Unavailable', disposition: 'failed' });
  assert.equal(answerForCaller({ status: 603, reason: 'x' }).disposition, 'rejected');
  assert.equal(answerForCaller({ status: 488, reason: 'Not Acceptable Here' }), { status: 488, reason: 'Not Acceptable Here', disposition: 'failed' });
});

outcome.run();
