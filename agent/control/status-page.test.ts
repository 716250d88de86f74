/**
 * renderStatusPage: health at a glance, and every value from data escaped (hostile user agents,
 * contacts, CDR numbers, alarm texts).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { escapeHtml, renderStatusPage, type StatusView } from './status-page.ts';

const HOSTILE = `<script>alert("x")</script><img src=x onerror='alert(1)'>&`;

const view = (over: Partial<StatusView> = {}): StatusView => ({
  health: { healthy: true, reasons: [] }, version: '0.1.0', node: 'a1', site: 'branch-a', domain: 'branch-a.example', uptimeS: 3725, now: 1_796_667_141_000,
  sipListen: ['udp:192.168.10.2:5060'], hub: { url: 'mqtts://hub:8883', connected: true, lagS: 0.4 }, peers: [], registrations: [], activeCalls: 0, cdrs: [], alarms: [], telemetry: undefined,
  ...over,
});

test('escapeHtml replaces the five characters that matter', () => {
  assert.is(escapeHtml(`<a href="x" title='y'>&</a>`), '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;');
});

test('healthy: green header; unhealthy: red header with the reasons', () => {
  const ok = renderStatusPage(view());
  assert.match(ok, '<header id="health" class="ok" data-healthy="true">');
  assert.match(ok, '1h 2m');
  const bad = renderStatusPage(view({ health: { healthy: false, reasons: ['SIP is not listening'] } }));
  assert.match(bad, '<header id="health" class="bad" data-healthy="false">');
  assert.match(bad, '<li>SIP is not listening</li>');
});

test('hostile values from data are shown as text, never as markup', () => {
  const html = renderStatusPage(view({
    registrations: [{ aor: HOSTILE, contact: `sip:${HOSTILE}@1.2.3.4`, expiresIn: 60, userAgent: HOSTILE }],
    cdrs: [{ startedAt: 1_796_667_000_000, caller: HOSTILE, callee: HOSTILE, disposition: 'answered', durationMs: 5000 }],
    alarms: [{ code: 'peer.down', severity: 'warning', message: HOSTILE, since: 1_796_667_000_000 }],
    peers: [{ id: 'a2', state: HOSTILE, since: HOSTILE, lagS: null }],
    node: HOSTILE,
    site: HOSTILE,
  }));
  assert.not.match(html, '<script>');
  assert.not.match(html, '<img');
  assert.not.match(html, "onerror='");
  assert.match(html, '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
  assert.not.match(html, /<script/i);
});

test.run();
