import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { firstbootText, parseFirstbootText } from './firstboot-file.ts';

const text = suite('firstbootText');

const fields = { site: 'branch-a', hub: 'https://[fd00::1]:8443', claim: '7KQ2-M9XD-4HRT', image: 'ab'.repeat(32), at: new Date('2026-12-07T19:00:00Z'), tool: 'outpost-flash 0.1.0' };

text('key=value lines a shell reads with sed; node only for a swap', () => {
  const t = firstbootText(fields);
  const m = parseFirstbootText(t);
  assert.is(m.get('version'), '1');
  assert.is(m.get('site'), 'branch-a');
  assert.is(m.get('hub'), 'https://[fd00::1]:8443');
  assert.is(m.get('claim'), '7KQ2-M9XD-4HRT');
  assert.is(m.get('node'), undefined);
  assert.is(m.get('flashed'), '2026-12-07T19:00:00.000Z');
  assert.is(parseFirstbootText(firstbootText({ ...fields, node: 'a3' })).get('node'), 'a3');
});

text('a value a shell would have to quote is refused', () => {
  assert.throws(() => firstbootText({ ...fields, site: 'a b' }), /characters the first-boot file does not allow/);
  assert.throws(() => firstbootText({ ...fields, hub: 'https://h:1/$(reboot)' }), /does not allow/);
});

text.run();
