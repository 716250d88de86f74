// The fleet dashboard's behaviour (docs/dashboard.md): live updates over Server-Sent Events and
// the charts of a box (uPlot). Plain browser JavaScript, no framework, no build step. Values
// from the fleet are only ever written with textContent, never as HTML.
(() => {
  'use strict';
  const page = document.body.dataset.page;
  const live = document.getElementById('live');

  const when = (ms) => (ms ? new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '—');
  const num = (v, unit = '') => (v === null || v === undefined ? '—' : `${Math.round(v * 10) / 10}${unit}`);

  function stream(url, handlers) {
    const es = new EventSource(url);
    es.addEventListener('open', () => {
      live.hidden = false;
      live.classList.remove('down');
      live.textContent = 'live';
    });
    es.addEventListener('error', () => {
      live.classList.add('down');
      live.textContent = 'reconnecting';
    });
    for (const [name, fn] of Object.entries(handlers)) es.addEventListener(name, (e) => fn(JSON.parse(e.data)));
    // Leaving the page closes the stream first, so the navigation does not abort it mid-flight.
    window.addEventListener('pagehide', () => es.close());
  }

  function set(root, key, text) {
    const el = root.querySelector(`[data-k="${key}"]`);
    if (el) el.textContent = text;
  }

  function setState(root, row) {
    const el = root.querySelector('[data-k="state"]');
    if (el) {
      el.textContent = row.state;
      el.className = `state ${row.state}`;
    }
    set(root, 'reason', row.reason);
  }

  function cell(tr, key, cls) {
    const td = document.createElement('td');
    if (key) td.dataset.k = key;
    if (cls) td.className = cls;
    tr.appendChild(td);
    return td;
  }

  function newRow(row) {
    const tr = document.createElement('tr');
    tr.dataset.box = row.nodeId;
    const a = document.createElement('a');
    a.href = `/box/${encodeURIComponent(row.nodeId)}`;
    a.textContent = row.nodeId;
    cell(tr).appendChild(a);
    const st = cell(tr);
    const badge = document.createElement('span');
    badge.dataset.k = 'state';
    const reason = document.createElement('span');
    reason.dataset.k = 'reason';
    reason.className = 'reason';
    st.append(badge, ' ', reason);
    cell(tr, 'activeCalls', 'n');
    cell(tr, 'registrations', 'n');
    cell(tr, 'hubLagMs', 'n');
    cell(tr, 'alarms', 'n');
    cell(tr, 'lastSeen');
    cell(tr, 'version');
    return tr;
  }

  function siteTable(site) {
    const sites = document.getElementById('sites');
    for (const s of sites.querySelectorAll('section.site')) if (s.dataset.site === site) return s.querySelector('tbody');
    sites.querySelector('.empty')?.remove();
    const section = document.createElement('section');
    section.className = 'site';
    section.dataset.site = site;
    const h = document.createElement('h2');
    h.textContent = `Site ${site || '(none)'}`;
    const table = document.createElement('table');
    table.className = 'boxes';
    const head = table.createTHead().insertRow();
    for (const t of ['box', 'state', 'calls', 'registrations', 'hub lag', 'alarms', 'last seen', 'version']) {
      const th = document.createElement('th');
      th.textContent = t;
      head.appendChild(th);
    }
    table.appendChild(document.createElement('tbody'));
    section.append(h, table);
    sites.appendChild(section);
    return table.querySelector('tbody');
  }

  function updateRow(row) {
    let tr = [...document.querySelectorAll('tr[data-box]')].find((r) => r.dataset.box === row.nodeId);
    if (!tr) {
      tr = newRow(row);
      siteTable(row.site).appendChild(tr);
    }
    tr.className = row.state;
    setState(tr, row);
    set(tr, 'activeCalls', num(row.activeCalls));
    set(tr, 'registrations', num(row.registrations));
    set(tr, 'hubLagMs', num(row.hubLagMs, ' ms'));
    set(tr, 'alarms', String(row.alarms.length));
    set(tr, 'lastSeen', when(row.lastSeen));
    set(tr, 'version', row.version ?? '—');
  }

  if (page === 'overview') {
    stream('/events', {
      boxes: (d) => {
        for (const row of d.rows) updateRow(row);
        for (const [k, v] of Object.entries(d.totals)) {
          const el = document.querySelector(`[data-t="${k}"]`);
          if (el) el.textContent = String(v);
        }
        for (const [k, v] of Object.entries(d.counters)) {
          const el = document.querySelector(`[data-c="${k}"]`);
          if (el) el.textContent = String(v);
        }
      },
    });
  }

  if (page === 'box') {
    const id = document.body.dataset.box;
    const charts = [];
    const width = () => Math.max(280, Math.min(1100, document.querySelector('main').clientWidth - 8));
    const plot = (el, series, pick) => {
      const opts = {
        width: width(),
        height: 200,
        scales: { x: { time: true } },
        series: [{}, ...series.map(([label, stroke]) => ({ label, stroke, width: 2, spanGaps: false }))],
        axes: [{}, { size: 60 }],
      };
      const chart = new uPlot(opts, [[], ...series.map(() => [])], el);
      charts.push({ chart, pick });
    };
    const draw = (s) => {
      if (!s) return;
      const x = s.at.map((t) => t / 1000);
      for (const { chart, pick } of charts) chart.setData([x, ...pick(s)]);
    };
    plot(document.getElementById('lag-chart'), [['hub lag (ms)', '#c0392b']], (s) => [s.hubLagMs]);
    plot(document.getElementById('calls-chart'), [['active calls', '#2471a3'], ['registrations', '#229954']], (s) => [s.activeCalls, s.registrations]);
    plot(document.getElementById('cpu-chart'), [['CPU %', '#7d3c98'], ['memory used %', '#b9770e']], (s) => [s.cpuPct, s.memUsedPct]);
    window.addEventListener('resize', () => {
      for (const { chart } of charts) chart.setSize({ width: width(), height: 200 });
    });
    fetch(`/api/box/${encodeURIComponent(id)}`, { credentials: 'same-origin' })
      .then((r) => r.json())
      .then((d) => draw(d.series));
    stream(`/events?box=${encodeURIComponent(id)}`, {
      box: (d) => {
        draw(d.series);
        const r = d.row;
        setState(document, r);
        set(document, 'lastSeen', when(r.lastSeen));
        set(document, 'activeCalls', num(r.activeCalls));
        set(document, 'registrations', num(r.registrations));
        set(document, 'hubLagMs', num(r.hubLagMs, ' ms'));
        if (d.latest) set(document, 'version', d.latest.version);
      },
    });
  }
})();
