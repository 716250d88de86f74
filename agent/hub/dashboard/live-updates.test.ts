import type { ServerResponse } from 'node:http';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { sampleTelemetry } from '../../../bench/lib/telemetry-sample.ts';
import { ManualClock } from '../../lib/clock.ts';
import { createSilentLogger } from '../../lib/logger.ts';
import { topics } from '../../wire/topics.ts';
import { FleetFeed } from '../fleet-feed.ts';
import { FleetView } from '../fleet-view.ts';
import { LiveUpdates } from './live-updates.ts';

/** What a ServerResponse was sent, as text; `close()` plays the browser leaving. */
function fakeResponse(): { res: ServerResponse; text: () => string; close: () => void } {
  let out = '';
  let onClose = () => {};
  const res = {
    writeHead: () => res,
    write: (s: string) => ((out += s), true),
    end: () => undefined,
    on: (event: string, fn: () => void) => {
      if (event === 'close') onClose = fn;
      return res;
    },
  };
  return { res: res as unknown as ServerResponse, text: () => out, close: () => onClose() };
}

const live = suite('LiveUpdates');

live('changed boxes go out at most once a flush: rows to the overview, the series to that box page only', () => {
  const clock = new ManualClock(1_000_000);
  const view = new FleetView({ samples: 10, maxAge: 600, staleAfter: 30 });
  const feed = new FleetFeed({ hubId: 'hub', brokerUrl: 'mqtt://127.0.0.1:1', tls: undefined, view, facts: () => undefined, clock, logger: createSilentLogger(), tickMs: 2000 });
  const updates = new LiveUpdates(feed, clock, 1000);
  updates.start();
  const overview = fakeResponse();
  const b1Page = fakeResponse();
  const b2Page = fakeResponse();
  updates.attach(overview.res, undefined);
  updates.attach(b1Page.res, 'b1');
  updates.attach(b2Page.res, 'b2');
  assert.is(overview.text(), 'retry: 2000\n\n');
  view.ingest(topics.nodeTelemetry('b1'), JSON.stringify(sampleTelemetry('b1', 'a', clock.now(), 0, { sip: { registrations: 7, activeCalls: 1 } })), clock.now());
  feed.tick(); // b1 is new: judged online, reported as changed
  assert.is(overview.text(), 'retry: 2000\n\n', 'nothing before the flush');
  clock.advance(1000);
  const events = overview.text().split('\n\n').filter((e) => e.startsWith('event: boxes'));
  assert.is(events.length, 1);
  const data = JSON.parse(events[0]!.split('data: ')[1]!) as { rows: Array<{ nodeId: string; registrations: number; state: string }>; totals: { boxes: number }; counters: { accepted: number } };
  assert.equal(data.rows.map((r) => [r.nodeId, r.state, r.registrations]), [['b1', 'online', 7]]);
  assert.is(data.totals.boxes, 1);
  assert.is(data.counters.accepted, 1);
  assert.match(b1Page.text(), /event: box\ndata: \{"row":\{"nodeId":"b1"/);
  assert.not.match(b2Page.text(), /event:/);
  // Time alone moves b1 (no state known, telemetry stale) to offline: the next tick reports it (the feed's timer runs only
  // once it is started with a broker, so the test ticks it), the next flush sends it.
  clock.advance(31_000);
  assert.not.match(overview.text(), /"state":"offline"/);
  feed.tick();
  clock.advance(1000);
  assert.match(overview.text(), /"state":"offline"/);
  b1Page.close();
  assert.is(updates.size, 2);
  updates.stop();
  assert.is(updates.size, 0);
});

live.run();
