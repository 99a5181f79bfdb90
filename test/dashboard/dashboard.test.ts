import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSmallSample } from './sample.js';

const root = path.resolve(import.meta.dirname, '../..');
const chromiumPath = '/usr/bin/chromium';
const screenshots = path.join(root, 'test-results');

let child: ChildProcess | undefined;
let output = '';
let stateDir: string;
let baseUrl = '';
let key = '';

/** Waits until npm start says it serves (or ends), then reads the host's URL and function key from its output. */
function waitForServing(process: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const runs =
        /Runs:\s+curl -s (http:\/\/127\.0\.0\.1:\d+)\/api\/runs -H 'x-functions-key: ([^']+)'/.exec(output);
      if (runs && output.includes('Serving. Press Ctrl+C')) {
        baseUrl = runs[1] as string;
        key = runs[2] as string;
        resolve();
      }
    };
    process.stdout?.on('data', check);
    process.on('exit', (code) =>
      reject(new Error(`npm start exited (${code}) before serving:\n${output.slice(-3000)}`)),
    );
  });
}

/**
 * `npm start` from source on a smaller sample (same months and products, fewer events a day) with a short
 * canary bake, left serving: the dashboard is then looked at as a user would, after a whole saga ran.
 */
beforeAll(async () => {
  stateDir = await mkdtemp(path.join(os.tmpdir(), 'dashboard-'));
  await writeSmallSample(stateDir);
  child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'scripts/start.ts',
      '--memory',
      '--port',
      '0',
      '--state',
      stateDir,
      '--timeout',
      '600',
    ],
    {
      cwd: root,
      env: {
        ...process.env,
        FORCE_COLOR: '0',
        BLOB_QUIET_WINDOW_SECONDS: '1',
        CANARY_BAKE_SECONDS: '8',
        CANARY_INTERVAL_SECONDS: '2',
        // Lenient SLOs: on a loaded CI machine a canary must not roll back for want of speed; the
        // canary judgement has its own tests (activities/analyzeCanary.test.ts).
        SLO_MIN_REQUESTS: '2',
        SLO_P95_MS: '5000',
        // The small sample forecasts worse than the full one; the gate's own tests cover its thresholds.
        GATE_MAX_MAPE: '5',
        GATE_MAX_P90_KEY_MAPE: '5',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  await waitForServing(child);
}, 600_000);

afterAll(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((resolve) => child?.once('exit', resolve));
    child.kill('SIGINT');
    await exited;
  }
  await rm(stateDir, { recursive: true, force: true });
}, 60_000);

const api = async (route: string, withKey = true) => {
  const url = new URL(`${baseUrl}/api/${route}`);
  if (withKey) url.searchParams.set('code', key);
  const res = await fetch(url);
  const text = await res.text();
  return { status: res.status, type: res.headers.get('content-type') ?? '', text };
};

describe('dashboard JSON API on the local host', () => {
  it('answers 400 and 404 with messages for bad ids, versions, files and filters', async () => {
    const cases: [string, number, RegExp][] = [
      ['dashboard/api/runs/bad%20id', 400, /not a valid run id/],
      ['dashboard/api/runs/no-such-run', 404, /No run with id 'no-such-run'/],
      ['dashboard/api/runs/no-such-run/files/metrics.json', 404, /No run with id/],
      ['dashboard/api/runs/no-such-run/files/secrets.txt', 400, /not a run file/],
      ['dashboard/api/models/bad!version', 400, /not a valid model version/],
      ['dashboard/api/models/999', 404, /No version '999'/],
      ['dashboard/api/models/1/files/secrets.txt', 400, /not a model file/],
      ['dashboard/api/endpoint?release=bad%20id', 400, /not a valid run id/],
      ['dashboard/api/endpoint?release=no-such-run', 404, /No run with id/],
      ['dashboard/static/..%2F..%2Fpackage.json', 400, /not a dashboard asset/],
      ['runs?status=Sleeping', 400, /status/],
      ['runs?type=nightly', 400, /type/],
    ];
    for (const [route, status, message] of cases) {
      const res = await api(route);
      expect(res.status, route).toBe(status);
      expect((JSON.parse(res.text) as { message: string }).message, route).toMatch(message);
    }
    expect((await api('dashboard', false)).status).toBe(401);
    expect((await api('dashboard/api/models', false)).status).toBe(401);
  });

  it('serves the run, model and endpoint views the page shows', async () => {
    const runs = JSON.parse((await api('runs')).text) as { runs: { id: string; type: string }[] };
    const release = runs.runs.find((r) => r.type === 'release');
    expect(release?.id).toBe('release-demand-forecast-1');
    const view = JSON.parse((await api(`dashboard/api/runs/${release?.id}`)).text) as {
      steps: { name: string; activities: { name: string }[] }[];
      canary: { points: unknown[]; trafficChanges: { traffic: Record<string, number> }[] };
    };
    expect(view.steps.map((s) => s.name)).toEqual(
      expect.arrayContaining(['deploy', 'smoke-test', 'canary-100', 'promote']),
    );
    expect(view.steps.find((s) => s.name === 'canary-100')?.activities.map((a) => a.name)).toContain(
      'analyzeCanary',
    );
    expect(view.canary.points.length).toBeGreaterThan(0);
    expect(view.canary.trafficChanges[0]?.traffic).toEqual({ v1: 100 });
    const plot = await api('dashboard/api/models/1/files/forecast-vs-actual.svg');
    expect(plot.status).toBe(200);
    expect(plot.type).toMatch(/image\/svg\+xml/);
    expect(plot.text).toMatch(/^<svg/);
  });
});

describe.skipIf(!existsSync(chromiumPath))('dashboard in a browser (Debian Chromium)', () => {
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const blocked: string[] = [];
  const pageErrors: string[] = [];

  beforeAll(async () => {
    await mkdir(screenshots, { recursive: true });
    browser = await chromium.launch({
      executablePath: chromiumPath,
      // Root in CI needs --no-sandbox; the resolver rule makes any name but loopback fail to resolve.
      args: ['--no-sandbox', '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1'],
    });
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    await context.route('**/*', async (route) => {
      const url = new URL(route.request().url());
      if (url.hostname === '127.0.0.1') return route.continue();
      blocked.push(url.href);
      return route.abort('blockedbyclient');
    });
    page = await context.newPage();
    page.on('pageerror', (err) => pageErrors.push(err.message));
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
  });

  const open = async (hash: string) => {
    await page.goto(`${baseUrl}/api/dashboard?code=${encodeURIComponent(key)}${hash}`);
  };

  it('lists the runs with status, trigger and duration, and filters them by type', async () => {
    await open('#/runs');
    const training = page.locator('#runs tr[data-run^="train-demand-forecast-blob-"]');
    await training.waitFor();
    await expect.poll(() => training.innerText()).toMatch(/training\s+Completed\s+registered\s+blob/);
    await page.locator('#runs tr[data-run="release-demand-forecast-1"]').waitFor();
    await page.selectOption('select[name="type"]', 'release');
    await expect.poll(() => page.locator('#runs tbody tr').count()).toBe(1);
    await page.screenshot({ path: path.join(screenshots, 'dashboard-runs.png'), fullPage: true });
  });

  it('shows every step of the training run with its activities, and the gate table', async () => {
    await open('#/runs?type=training');
    await page.locator('#runs tr[data-run^="train-"] a').click();
    await page.locator('#steps').waitFor();
    const steps = await page
      .locator('#steps tr.step')
      .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-step')));
    expect(steps).toEqual(['validate', 'etl', 'train', 'gate', 'register', 'record']);
    expect(await page.locator('#steps tr.activity[data-activity="evaluateGate"]').count()).toBe(1);
    const checks = await page
      .locator('#gate tbody tr')
      .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-check')));
    expect(checks).toEqual(['overall_mape', 'p90_key_mape', 'beats_seasonal_naive_wape']);
    expect(await page.locator('#gate').innerText()).toMatch(/pass/);
    expect(await page.locator('#artifacts a', { hasText: 'metrics.json' }).count()).toBe(1);
    await page.screenshot({ path: path.join(screenshots, 'dashboard-run.png'), fullPage: true });
  });

  it('shows the models with metrics, tags and the forecast-vs-actual plot', async () => {
    await open('#/models');
    const row = page.locator('#models tr[data-version="1"]');
    await row.waitFor();
    expect(await row.innerText()).toMatch(/champion/);
    await row.locator('a').first().click();
    const plot = page.locator('img#plot');
    await plot.waitFor();
    await expect
      .poll(() =>
        plot.evaluate((img) => (img as unknown as { complete: boolean; naturalWidth: number }).naturalWidth),
      )
      .toBeGreaterThan(0);
    await page.screenshot({ path: path.join(screenshots, 'dashboard-model.png'), fullPage: true });
  });

  it('shows the endpoint traffic split, deployments and canary charts with data', async () => {
    await open('#/endpoint');
    await page.locator('#traffic').waitFor();
    expect(await page.locator('#traffic [data-deployment="v1"]').innerText()).toMatch(/v1 100%/);
    expect(await page.locator('#deployments tr[data-deployment="v1"]').innerText()).toMatch(/Succeeded/);
    const chart = page.locator('#chart-p95');
    await chart.locator('canvas').waitFor();
    expect(Number(await chart.getAttribute('data-points'))).toBeGreaterThan(0);
    expect(Number(await page.locator('#chart-errors').getAttribute('data-points'))).toBeGreaterThan(0);
    await page.screenshot({ path: path.join(screenshots, 'dashboard-endpoint.png'), fullPage: true });
    expect(pageErrors).toEqual([]);
    expect(blocked).toEqual([]);
  });
});
