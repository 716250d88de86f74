/** `outpost config status` (config-command.ts): the state of each box and the printed lines. */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { BoxConfigStatus } from '../control/desired-config.ts';
import { formatConfigStatus, stateOf } from './config-command.ts';

const box = (extra: Partial<BoxConfigStatus>): BoxConfigStatus => ({ node: 'a1', site: 'branch-a', desired: { fleet: 1, site: 3 }, inSync: false, ...extra });
const report = (applied: BoxConfigStatus['desired'], problems: string[] = [], pendingRestart: string[] = []) => ({ applied, seen: applied, pendingRestart, problems, at: 0 });

const status = suite('config status');

status('states: in sync, behind, refused, not reported', () => {
  assert.is(stateOf(box({})), 'not reported');
  assert.is(stateOf(box({ reported: report({ fleet: 1, site: 3 }), inSync: true })), 'in sync');
  assert.is(stateOf(box({ reported: report({ fleet: 1, site: 2 }) })), 'behind');
  assert.is(stateOf(box({ reported: report({ fleet: 1, site: 2 }, ['x: bad']) })), 'refused');
});

status('prints documents, then each box with its versions, restart keys and problems', () => {
  const lines = formatConfigStatus(
    [{ scope: 'site:branch-a', site: 'branch-a', document: '{}', version: 3, setBy: 'ann', setAt: 0 }],
    [box({ reported: report({ fleet: 1, site: 2 }, ['sip.registrar: must satisfy (from site document v3)'], ['sip.timers.t1']) }), box({ node: 'a2', desired: {} })],
  );
  assert.equal(lines, [
    'document  site:branch-a v3, set by ann at 1970-01-01T00:00:00.000Z',
    'box       a1 (site branch-a): refused',
    '  desired fleet v1, site v3',
    '  applied fleet v1, site v2 (reported 1970-01-01T00:00:00.000Z)',
    '  restart sip.timers.t1',
    '  problem sip.registrar: must satisfy (from site document v3)',
    'box       a2 (site branch-a): not reported',
    '  desired none',
  ]);
});

status.run();
