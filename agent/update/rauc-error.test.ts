import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { raucFailureReason } from './rauc-error.ts';

const progress = ['installing', '  0% Installing', ' 20% Checking bundle', ' 20% Verifying signature', ' 40% Verifying signature failed.', '100% Installing failed.'].join('\n');

test('a failed install: the LastError cause, not the generic last line', () => {
  const stderr = `${progress}\nLastError: Failed verifying bundle: signature verification failed: Verify error: unable to get local issuer certificate\nInstalling \`/data/outpost/update/bundle.raucb\` failed\n`;
  assert.is(raucFailureReason('', stderr), 'Failed verifying bundle: signature verification failed: Verify error: unable to get local issuer certificate');
});

test('the cause is found on stdout too', () => {
  assert.is(raucFailureReason(`${progress}\nLastError: Failed mounting bundle: Failed to load dm table\n`, 'Installing `/b.raucb` failed\n'), 'Failed mounting bundle: Failed to load dm table');
});

test('without LastError: the last line on stderr, or nothing', () => {
  assert.is(raucFailureReason('', 'rauc-Message: x\nD-Bus error while installing `/b.raucb`\n'), 'D-Bus error while installing `/b.raucb`');
  assert.is(raucFailureReason('some output', '  \n'), undefined);
});

test.run();
