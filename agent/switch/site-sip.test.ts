import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createSilentLogger } from '../lib/logger.ts';
import { DigestAuthenticator } from '../sip/auth/digest-authenticator.ts';
import { ManualClock } from '../lib/clock.ts';
import { SiteSip, siteSip } from './site-sip.ts';

const pure = suite('siteSip');

pure('the site row wins where it sets a value; the realm falls back to the site domain, then the config', () => {
  assert.equal(siteSip(undefined, 'box.example', undefined), { domain: 'box.example', realm: 'box.example' });
  assert.equal(siteSip(undefined, 'box.example', 'Box'), { domain: 'box.example', realm: 'Box' });
  assert.equal(siteSip({ domain: '', realm: '' }, 'box.example', 'Box'), { domain: 'box.example', realm: 'Box' });
  assert.equal(siteSip({ domain: 'b.example', realm: '' }, 'box.example', 'Box'), { domain: 'b.example', realm: 'b.example' });
  assert.equal(siteSip({ domain: 'b.example', realm: 'B' }, 'box.example', 'Box'), { domain: 'b.example', realm: 'B' });
  assert.equal(siteSip({ domain: '', realm: 'B' }, 'box.example', undefined), { domain: 'box.example', realm: 'B' });
});

const live = suite('SiteSip.refresh');

live('a change of the site row reaches the authenticator\'s challenges at the next refresh', () => {
  let row: { domain: string; realm: string } | undefined;
  const authenticator = new DigestAuthenticator({ realm: 'box.example', clock: new ManualClock() });
  const sip = new SiteSip({ site: 'b', sites: { get: () => row && { id: 'b', name: '', adminPublicKey: '', createdAt: 0, updatedAt: 0, ...row } }, configDomain: 'box.example', configRealm: undefined, authenticator, logger: createSilentLogger() });
  sip.refresh();
  assert.match(authenticator.challenge()[0]!, /realm="box.example"/);
  row = { domain: 'b.example', realm: 'Branch B' };
  sip.refresh();
  assert.equal([sip.domain, sip.realm], ['b.example', 'Branch B']);
  assert.match(authenticator.challenge()[0]!, /realm="Branch B"/);
  row = { domain: 'b.example', realm: 'bad\r\nrealm' };
  sip.refresh();
  assert.is(sip.realm, 'Branch B', 'an unquotable realm is not taken');
});

pure.run();
live.run();
