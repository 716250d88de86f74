import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { sampleTelemetry } from '../../../bench/lib/telemetry-sample.ts';
import { topics } from '../../wire/topics.ts';
import { FleetView } from '../fleet-view.ts';
import { esc } from './html.ts';
import { alarmsPage, boxPage, overviewPage } from './pages.ts';

const HOSTILE = `<script>alert(1)</script>"'&`;

const pages = suite('pages escape data from the fleet');

pages('esc turns every HTML metacharacter into an entity', () => {
  assert.is(esc(HOSTILE), '&#60;script&#62;alert(1)&#60;/script&#62;&#34;&#39;&#38;');
  assert.is(esc(null), '');
});

pages('a hostile version, site, alarm and user name appear only escaped', () => {
  const view = new FleetView({ samples: 5, maxAge: 60, staleAfter: 30 });
  const t = sampleTelemetry('b1', HOSTILE.slice(0, 60), 1, 0, { version: HOSTILE, alarms: [{ code: 'sync.x', severity: 'critical', message: HOSTILE, since: 1 }] });
  assert.is(view.ingest(topics.nodeTelemetry('b1'), JSON.stringify(t), 1).kind, 'accepted');
  const html = [overviewPage(HOSTILE, view.overview([], 1)), boxPage(HOSTILE, view.detail('b1', undefined, 1)!), alarmsPage(HOSTILE, view.alarms([], 1))].join('\n');
  assert.not.match(html, '<script>alert');
  assert.not.match(html, `"'&<`);
  assert.match(html, '&#60;script&#62;alert(1)');
});

pages.run();
