// The dashboard page: hash routes #/runs, #/runs/<id>, #/models, #/models/<version>, #/endpoint.
// Plain ES modules and DOM calls (no framework, no build step); text goes in as text, never as HTML.
import { apiUrl, getJson } from './api.js';
import { canaryChart } from './charts.js';

const app = document.getElementById('app');
const refreshState = document.getElementById('refresh-state');
let refreshTimer;
let renderToken = 0;

/** Builds an element: h('td', { class: 'x' }, 'text', child). */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

const time = (iso) => (iso ? new Date(iso).toLocaleString() : '—');
const clock = (iso) => (iso ? new Date(iso).toLocaleTimeString() : '—');
const secs = (s) =>
  s === undefined || s === null ? '—' : s < 120 ? `${s.toFixed(1)} s` : `${(s / 60).toFixed(1)} min`;
const num = (v, digits = 4) => (v === undefined || v === null ? '—' : Number(v).toFixed(digits));
const pct = (v) => (v === undefined || v === null ? '—' : `${(v * 100).toFixed(2)}%`);
const badge = (text, kind = String(text).toLowerCase()) => h('span', { class: `badge ${kind}` }, text);
const table = (headers, rows, attrs = {}) =>
  h(
    'table',
    attrs,
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        headers.map((x) => h('th', {}, x)),
      ),
    ),
    h('tbody', {}, rows),
  );
const link = (hash, text) => h('a', { href: hash }, text);

function schedule(ms, fn) {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(fn, ms);
  refreshState.textContent = `auto-refresh every ${ms / 1000} s`;
}

function stopRefresh() {
  clearTimeout(refreshTimer);
  refreshState.textContent = '';
}

/** Replaces the page content (nested arrays and empty parts allowed, as in h()). */
function show(...nodes) {
  app.replaceChildren(...nodes.flat(Infinity).filter((n) => n !== undefined && n !== null && n !== false));
}

function showError(err) {
  show(h('p', { class: 'error', role: 'alert' }, err.message));
}

// ---------------------------------------------------------------------------------------------------- runs

const statuses = ['', 'Running', 'Pending', 'Completed', 'Failed', 'Terminated', 'Canceled', 'Suspended'];
const types = ['', 'training', 'release', 'rollback'];

async function runsPage(params) {
  const status = params.get('status') ?? '';
  const type = params.get('type') ?? '';
  const query = new URLSearchParams();
  if (status) query.set('status', status);
  if (type) query.set('type', type);
  const { runs } = await getJson(`app:runs${query.size ? `?${query}` : ''}`);
  const select = (name, options, value) =>
    h(
      'select',
      {
        name,
        onchange: (e) => {
          const next = new URLSearchParams(params);
          if (e.target.value) next.set(name, e.target.value);
          else next.delete(name);
          location.hash = `#/runs${next.size ? `?${next}` : ''}`;
        },
      },
      options.map((o) => h('option', { value: o, selected: o === value }, o || `any ${name}`)),
    );
  const rows = runs.map((r) =>
    h(
      'tr',
      { 'data-run': r.id },
      h('td', {}, link(`#/runs/${encodeURIComponent(r.id)}`, r.id)),
      h('td', {}, r.type),
      h('td', {}, badge(r.runtimeStatus)),
      h('td', {}, r.outcome ? badge(r.outcome) : '—'),
      h('td', {}, r.trigger ?? '—'),
      h('td', {}, time(r.createdTime)),
      h('td', {}, secs(r.durationSeconds)),
      h('td', {}, r.step ?? ''),
    ),
  );
  show(
    h('h2', {}, 'Runs'),
    h(
      'div',
      { class: 'filters' },
      'Filter: ',
      select('status', statuses, status),
      select('type', types, type),
    ),
    runs.length
      ? table(['Run', 'Type', 'Status', 'Outcome', 'Trigger', 'Started', 'Duration', 'Step'], rows, {
          id: 'runs',
        })
      : h('p', {}, 'No runs match.'),
  );
  return runs.some((r) => r.runtimeStatus === 'Running' || r.runtimeStatus === 'Pending') ? 3000 : 10000;
}

function timelineBar(step, start, span) {
  const from = Date.parse(step.startedAt) - start;
  const to = (step.endedAt ? Date.parse(step.endedAt) : Date.now()) - start;
  const left = span > 0 ? (from / span) * 100 : 0;
  const width = span > 0 ? Math.max(0.5, ((to - from) / span) * 100) : 100;
  return h(
    'div',
    { class: 'track' },
    h('div', { class: `bar ${step.status}`, style: `left:${left}%;width:${width}%` }),
  );
}

/** Consecutive successful calls of one activity (status polls) as one row: first start, last end, count. */
function collapsePolls(calls) {
  const rows = [];
  for (const call of calls) {
    const last = rows.at(-1);
    if (
      last &&
      last.name === call.name &&
      last.outcome === 'succeeded' &&
      call.outcome === 'succeeded' &&
      call.attempt === 1
    ) {
      last.calls += 1;
      last.endedAt = call.endedAt;
    } else {
      rows.push({ ...call, calls: 1 });
    }
  }
  return rows;
}

function stepsTable(run) {
  const start = Date.parse(run.createdTime);
  const end = Math.max(
    Date.parse(run.lastUpdatedTime),
    ...run.steps.map((s) => Date.parse(s.endedAt ?? s.startedAt)),
    run.live ? Date.now() : 0,
  );
  const span = end - start;
  const rows = [];
  for (const step of run.steps) {
    rows.push(
      h(
        'tr',
        { class: 'step', 'data-step': step.name },
        h('td', {}, step.name),
        h('td', {}, badge(step.status)),
        h('td', {}, clock(step.startedAt)),
        h('td', {}, clock(step.endedAt)),
        h(
          'td',
          {},
          step.status === 'running'
            ? `${secs((Date.now() - Date.parse(step.startedAt)) / 1000)} so far`
            : secs(step.durationSeconds),
        ),
        h('td', {}, step.retries ? `${step.retries} retr${step.retries === 1 ? 'y' : 'ies'}` : ''),
        h('td', { class: 'timeline' }, timelineBar(step, start, span)),
        h('td', {}, step.detail ?? ''),
      ),
    );
    for (const call of collapsePolls(step.activities)) {
      const seconds = (Date.parse(call.endedAt) - Date.parse(call.startedAt)) / 1000;
      rows.push(
        h(
          'tr',
          { class: 'activity', 'data-activity': call.name },
          h('td', {}, `↳ ${call.name}${call.calls > 1 ? ` ×${call.calls}` : ''}`),
          h('td', {}, badge(call.outcome)),
          h('td', {}, clock(call.startedAt)),
          h('td', {}, clock(call.endedAt)),
          h('td', {}, secs(seconds)),
          h('td', {}, call.attempt > 1 ? `attempt ${call.attempt}` : ''),
          h('td', { class: 'timeline' }, timelineBar({ ...call, status: call.outcome }, start, span)),
          h('td', {}, call.error ?? ''),
        ),
      );
    }
  }
  return table(
    ['Step / activity', 'Outcome', 'Start', 'End', 'Duration', 'Retries', 'Timeline', 'Detail'],
    rows,
    {
      id: 'steps',
    },
  );
}

function gateTable(gate) {
  return h(
    'section',
    {},
    h('h3', {}, 'Quality gate ', badge(gate.passed ? 'passed' : 'failed')),
    table(
      ['Check', 'Value', 'Threshold', 'Result'],
      gate.checks.map((c) =>
        h(
          'tr',
          { 'data-check': c.name },
          h('td', {}, c.name),
          h('td', {}, num(c.value)),
          h('td', {}, num(c.threshold)),
          h('td', {}, badge(c.passed ? 'pass' : 'fail')),
        ),
      ),
      { id: 'gate' },
    ),
    h('p', {}, gate.reason),
  );
}

function canarySection(canary, heading) {
  const p95 = h('div', { class: 'chart', id: 'chart-p95' });
  const errors = h('div', { class: 'chart', id: 'chart-errors' });
  const section = h(
    'section',
    { id: 'canary' },
    h('h3', {}, heading),
    canary.slo
      ? h(
          'p',
          { class: 'muted' },
          `SLO: p95 ≤ ${canary.slo.maxP95LatencyMs} ms, 5xx ≤ ${pct(canary.slo.max5xxRate)}, at least ${canary.slo.minRequests} requests per analysis`,
        )
      : null,
    h('div', { class: 'charts' }, p95, errors),
    canary.trafficChanges.length
      ? h(
          'p',
          { class: 'muted' },
          'Traffic changes: ',
          canary.trafficChanges.map((c) => `${clock(c.at)} ${c.label}`).join(' · '),
        )
      : null,
  );
  // uPlot measures its container: draw once the section is in the page.
  queueMicrotask(() => {
    canaryChart(p95, canary, 'p95');
    canaryChart(errors, canary, 'errors');
  });
  return section;
}

async function runPage(id) {
  const run = await getJson(`runs/${encodeURIComponent(id)}`);
  const facts = [
    ['Type', run.type],
    ['Status', badge(run.runtimeStatus)],
    ['Outcome', run.outcome ? badge(run.outcome) : '—'],
    [
      'Trigger',
      run.trigger ? `${run.trigger.source}${run.trigger.eventId ? ` (${run.trigger.eventId})` : ''}` : '—',
    ],
    ['Started', time(run.createdTime)],
    ['Duration', run.live ? 'running' : secs(run.durationSeconds)],
    [
      'Model',
      run.model
        ? link(`#/models/${encodeURIComponent(run.model.version)}`, `${run.model.name}:${run.model.version}`)
        : '—',
    ],
  ];
  show(
    h('p', {}, link('#/runs', '← all runs')),
    h('h2', {}, `Run ${run.id}`),
    h(
      'dl',
      { class: 'facts' },
      facts.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]),
    ),
    run.reason ? h('p', { class: 'reason' }, run.reason) : null,
    run.live && run.progress ? h('p', { class: 'progress' }, `${run.step}: ${run.progress}`) : null,
    h('h3', {}, 'Steps'),
    stepsTable(run),
    run.gate ? gateTable(run.gate) : null,
    run.canary ? canarySection(run.canary, 'Canary analyses') : null,
    run.artifacts.length
      ? h(
          'section',
          {},
          h('h3', {}, 'Artifacts'),
          h(
            'ul',
            { id: 'artifacts' },
            run.artifacts.map((a) =>
              h(
                'li',
                {},
                a.href
                  ? a.href.startsWith('models/')
                    ? link(`#/${a.href}`, a.label)
                    : h('a', { href: apiUrl(a.href), target: '_blank', rel: 'noopener' }, a.label)
                  : a.label,
                a.uri && a.uri !== a.label ? h('code', {}, ` ${a.uri}`) : null,
              ),
            ),
          ),
        )
      : null,
  );
  return run.live ? 2000 : undefined;
}

// -------------------------------------------------------------------------------------------------- models

function modelTags(m) {
  return [
    m.champion ? badge('champion') : null,
    m.rejected !== undefined ? h('span', {}, badge('rejected'), ` ${m.rejected}`) : null,
    m.retired ? badge('retired') : null,
    m.tags.gate ? badge(`gate ${m.tags.gate}`, m.tags.gate) : null,
  ];
}

async function modelsPage() {
  const { modelName, models } = await getJson('models');
  const rows = models.map((m) =>
    h(
      'tr',
      { 'data-version': m.version },
      h('td', {}, link(`#/models/${encodeURIComponent(m.version)}`, m.version)),
      h('td', {}, time(m.createdAt)),
      h('td', {}, modelTags(m)),
      h('td', {}, m.runId ? link(`#/runs/${encodeURIComponent(m.runId)}`, m.runId) : '—'),
      h('td', {}, num(m.metrics?.overall.mape)),
      h('td', {}, num(m.metrics?.overall.wape)),
      h('td', {}, num(m.metrics?.p90KeyMape)),
      h('td', {}, num(m.metrics?.seasonalNaiveWape)),
      h('td', {}, num(m.metrics?.championWape)),
      h('td', {}, m.metricsError ? h('span', { class: 'error' }, m.metricsError) : (m.metrics?.model ?? '')),
    ),
  );
  show(
    h('h2', {}, `Models: ${modelName}`),
    models.length
      ? table(
          [
            'Version',
            'Registered',
            'Tags',
            'Run',
            'MAPE',
            'WAPE',
            'P90 key MAPE',
            'Seasonal-naive WAPE',
            'Champion WAPE',
            'Model',
          ],
          rows,
          { id: 'models' },
        )
      : h('p', {}, 'No model registered yet.'),
  );
  return 15000;
}

async function modelPage(version) {
  const m = await getJson(`models/${encodeURIComponent(version)}`);
  const metric = (label, v) => [h('dt', {}, label), h('dd', {}, v)];
  const keyRows = (keys) =>
    keys.map((k) => h('tr', {}, h('td', {}, k.key), h('td', {}, num(k.mape)), h('td', {}, num(k.wape))));
  show(
    h('p', {}, link('#/models', '← all models')),
    h('h2', {}, `${m.name}:${m.version} `, modelTags(m)),
    h(
      'dl',
      { class: 'facts' },
      metric('Registered', time(m.createdAt)),
      metric('Run', m.runId ? link(`#/runs/${encodeURIComponent(m.runId)}`, m.runId) : '—'),
      metric(
        'Model',
        m.metrics
          ? `${m.metrics.model}, ${m.metrics.keyType}, horizon ${m.metrics.horizon} d, ${m.metrics.folds} folds`
          : '—',
      ),
      metric(
        'MAPE / WAPE / sMAPE',
        m.metrics
          ? `${num(m.metrics.overall.mape)} / ${num(m.metrics.overall.wape)} / ${num(m.metrics.overall.smape)}`
          : '—',
      ),
      metric('Seasonal-naive WAPE', num(m.metrics?.seasonalNaiveWape)),
      metric('Champion WAPE then', num(m.metrics?.championWape)),
      metric('Directory', h('code', {}, m.modelUri)),
    ),
    m.metricsError ? h('p', { class: 'error' }, m.metricsError) : null,
    m.perFold.length
      ? h(
          'section',
          {},
          h('h3', {}, 'Backtest folds'),
          table(
            ['Fold', 'Origin', 'Points', 'MAPE', 'WAPE'],
            m.perFold.map((f) =>
              h(
                'tr',
                {},
                h('td', {}, f.fold),
                h('td', {}, f.originDate),
                h('td', {}, f.metrics.count),
                h('td', {}, num(f.metrics.mape)),
                h('td', {}, num(f.metrics.wape)),
              ),
            ),
          ),
        )
      : null,
    m.worstKeys.length
      ? h(
          'section',
          { class: 'pair' },
          h('div', {}, h('h3', {}, 'Worst keys'), table(['Key', 'MAPE', 'WAPE'], keyRows(m.worstKeys))),
          h('div', {}, h('h3', {}, 'Best keys'), table(['Key', 'MAPE', 'WAPE'], keyRows(m.bestKeys))),
        )
      : null,
    h('h3', {}, 'Forecast vs actual (top keys)'),
    h('img', {
      id: 'plot',
      src: apiUrl(m.files['forecast-vs-actual.svg']),
      alt: `forecast vs actual of ${m.name}:${m.version}`,
    }),
    h(
      'p',
      {},
      'Files: ',
      Object.entries(m.files).map(([name, href]) => [
        h('a', { href: apiUrl(href), target: '_blank', rel: 'noopener' }, name),
        ' ',
      ]),
    ),
  );
  return undefined;
}

// ------------------------------------------------------------------------------------------------ endpoint

function trafficBar(endpoint) {
  const entries = Object.entries(endpoint.traffic).filter(([, share]) => share > 0);
  if (entries.length === 0) return h('p', { id: 'traffic' }, 'No deployment takes traffic.');
  return h(
    'div',
    { id: 'traffic', class: 'traffic' },
    entries.map(([name, share], i) =>
      h(
        'div',
        { class: `share c${i % 6}`, style: `width:${share}%`, 'data-deployment': name },
        `${name} ${share}%`,
      ),
    ),
  );
}

async function endpointPage(params) {
  const release = params.get('release');
  const [view, releases] = await Promise.all([
    getJson(`endpoint${release ? `?release=${encodeURIComponent(release)}` : ''}`),
    getJson('app:runs?type=release&top=20'),
  ]);
  const picker = h(
    'select',
    {
      name: 'release',
      onchange: (e) => (location.hash = `#/endpoint?release=${encodeURIComponent(e.target.value)}`),
    },
    releases.runs.map((r) =>
      h(
        'option',
        { value: r.id, selected: r.id === view.release?.id },
        `${r.id} (${r.outcome ?? r.runtimeStatus})`,
      ),
    ),
  );
  const rows = view.deployments.map((d) =>
    h(
      'tr',
      { 'data-deployment': d.name },
      h('td', {}, d.name),
      h('td', {}, badge(d.state)),
      h(
        'td',
        {},
        d.model
          ? link(`#/models/${encodeURIComponent(d.model.version)}`, `${d.model.name}:${d.model.version}`)
          : '—',
      ),
      h('td', {}, `${d.trafficPercent}%`),
      h('td', {}, d.mirrorPercent ? `${d.mirrorPercent}%` : '—'),
      h('td', {}, d.recent ? d.recent.requests : '—'),
      h('td', {}, d.recent?.p95LatencyMs != null ? `${Math.round(d.recent.p95LatencyMs)} ms` : '—'),
      h('td', {}, d.recent ? pct(d.recent.errorRate) : '—'),
    ),
  );
  show(
    h('h2', {}, `Endpoint ${view.name}`),
    view.exists
      ? [
          h(
            'p',
            {},
            'State ',
            badge(view.provisioningState),
            view.scoringUri ? h('code', {}, ` ${view.scoringUri}`) : null,
          ),
          h('h3', {}, 'Traffic split'),
          trafficBar(view),
          h('h3', {}, 'Deployments'),
          table(
            ['Deployment', 'State', 'Model', 'Traffic', 'Mirror', 'Requests (60 s)', 'p95', '5xx'],
            rows,
            { id: 'deployments' },
          ),
        ]
      : h('p', {}, 'The endpoint does not exist yet: the first release creates it.'),
    view.release
      ? [
          h('h3', {}, 'Release ', picker),
          h(
            'p',
            {},
            link(`#/runs/${encodeURIComponent(view.release.id)}`, view.release.id),
            ' ',
            badge(view.release.runtimeStatus),
            view.release.outcome ? [' ', badge(view.release.outcome)] : null,
            view.release.reason ? ` ${view.release.reason}` : '',
          ),
          canarySection(view.canary, 'Canary over time'),
        ]
      : h('p', {}, 'No release has run yet.'),
  );
  return view.release?.live ? 2000 : 10000;
}

// ------------------------------------------------------------------------------------------------- routing

async function render() {
  const token = ++renderToken;
  const [path, query = ''] = location.hash.replace(/^#/, '').split('?');
  const parts = (path || '/runs').split('/').filter(Boolean).map(decodeURIComponent);
  const params = new URLSearchParams(query);
  for (const a of document.querySelectorAll('nav a'))
    a.classList.toggle('active', a.dataset.nav === parts[0]);
  let next;
  try {
    if (parts[0] === 'runs' && parts[1]) next = await runPage(parts[1]);
    else if (parts[0] === 'models' && parts[1]) next = await modelPage(parts[1]);
    else if (parts[0] === 'models') next = await modelsPage();
    else if (parts[0] === 'endpoint') next = await endpointPage(params);
    else next = await runsPage(params);
  } catch (err) {
    if (token === renderToken) showError(err);
    next = undefined;
  }
  if (token !== renderToken) return;
  if (next) schedule(next, render);
  else stopRefresh();
}

window.addEventListener('hashchange', () => void render());
void render();
