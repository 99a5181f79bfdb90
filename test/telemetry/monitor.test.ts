import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Attr, MetricName, SpanEventName, SpanName } from '../../telemetry/index.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const monitorDir = join(repoRoot, 'infra', 'monitor');
const kqlFiles = readdirSync(monitorDir).filter((f) => f.endsWith('.kql'));
const kql = Object.fromEntries(
  kqlFiles.map((f) => [f.replace(/\.kql$/, ''), readFileSync(join(monitorDir, f), 'utf8')]),
);

interface WorkbookItem {
  type: number;
  name: string;
  content: { query?: string; timeContextFromParameter?: string; resourceType?: string };
}
const workbook = JSON.parse(readFileSync(join(monitorDir, 'workbook.json'), 'utf8')) as {
  version: string;
  items: WorkbookItem[];
};

/** Every match of a pattern's first group across all queries. */
const captured = (pattern: RegExp) =>
  new Set(Object.values(kql).flatMap((text) => [...text.matchAll(pattern)].map((m) => m[1] ?? '')));

describe('infra/monitor queries', () => {
  it('has the saga step, failure, canary decision and endpoint p95 queries', () => {
    expect(Object.keys(kql)).toEqual(
      expect.arrayContaining([
        'saga-step-durations',
        'failures-by-step',
        'canary-decisions',
        'endpoint-p95-by-deployment',
      ]),
    );
  });

  it('reads only attributes the app emits', () => {
    const emitted = new Set<string>(Object.values(Attr));
    const read = captured(/customDimensions\["([^"]+)"\]/g);
    expect(read.size).toBeGreaterThan(10);
    expect([...read].filter((key) => !emitted.has(key))).toEqual([]);
  });

  it('names only spans, span events and metrics the app emits', () => {
    const spanPrefixes = new Set([SpanName.activity(''), SpanName.sagaStep(''), SpanName.saga('')]);
    expect([...captured(/name startswith "([^"]+)"/g)].filter((p) => !spanPrefixes.has(p))).toEqual([]);
    const events = new Set<string>(Object.values(SpanEventName));
    expect([...captured(/message == "([^"]+)"/g)].filter((e) => !events.has(e))).toEqual([]);
    const metricNames = new Set<string>(Object.values(MetricName));
    const queried = captured(/name == "([^"]+)"/g);
    expect(queried.size).toBeGreaterThan(0);
    expect([...queried].filter((m) => !metricNames.has(m))).toEqual([]);
  });
});

describe('infra/monitor workbook', () => {
  const queries = workbook.items.filter((item) => item.type === 3);

  it('shows every query exactly as its .kql file says, over the App Insights component', () => {
    expect(workbook.version).toBe('Notebook/1.0');
    expect(queries.map((q) => q.name).sort()).toEqual(Object.keys(kql).sort());
    for (const item of queries) {
      // Copy the file's text into workbook.json when a query changes.
      expect(item.content.query, item.name).toBe(kql[item.name]);
      expect(item.content.resourceType).toBe('microsoft.insights/components');
      expect(item.content.timeContextFromParameter).toBe('TimeRange');
    }
  });

  it('is deployed with the App Insights component', () => {
    const bicep = readFileSync(join(repoRoot, 'infra', 'app', 'monitoring.bicep'), 'utf8');
    expect(bicep).toMatch(/'Microsoft\.Insights\/workbooks@\d{4}-\d{2}-\d{2}'/);
    expect(bicep).toContain("serializedData: loadTextContent('../monitor/workbook.json')");
    expect(bicep).toContain('sourceId: applicationInsights.id');
  });
});
