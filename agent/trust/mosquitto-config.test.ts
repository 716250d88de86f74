import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mosquittoAcl } from './mosquitto-config.ts';

const acl = suite('mosquittoAcl');

acl('an admin gets its own user entry: admin requests to write, its own responses to read, nothing else', () => {
  const text = mosquittoAcl('hub', [{ nodeId: 'a1', site: 'a', role: 'node' }, { nodeId: 'ann', site: '', role: 'admin' }]);
  const block = text.split('\n\n').find((b) => b.startsWith('user ann'));
  assert.is(block?.trim(), ['user ann', 'topic write outpost/v1/admin/request/+', 'topic read outpost/v1/admin/response/ann/+'].join('\n'));
  const box = text.split('\n\n').find((b) => b.startsWith('user a1'))!;
  assert.not.match(box, /admin/, 'a box has no admin topic');
  assert.not.match(text.split('\n\n').slice(0, 2).join('\n'), /admin/, 'no pattern line opens admin topics to every client');
});

acl.run();
