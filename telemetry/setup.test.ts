import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import { FakeCredential } from '../test/port/fakeCredential.js';
import {
  azureMonitorOptions,
  configureTelemetry,
  entraClientIdOf,
  type AzureMonitorSettings,
  type ConfigureAzureMonitor,
} from './setup.js';

const connectionString =
  'InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=https://westeurope-5.in.applicationinsights.azure.com/';

/** Stands in for the App Insights set-up: the real one constructs an exporter that calls Microsoft. */
function recordingConfigure() {
  const calls: AzureMonitorSettings[] = [];
  const configure = vi.fn<ConfigureAzureMonitor>(async (settings) => {
    calls.push(settings);
  });
  return { configure, calls };
}

describe('configureTelemetry', () => {
  it('configures nothing without APPLICATIONINSIGHTS_CONNECTION_STRING', async () => {
    const { configure } = recordingConfigure();
    expect(await configureTelemetry({}, configure)).toBe('none');
    expect(await configureTelemetry({ APPLICATIONINSIGHTS_CONNECTION_STRING: '  ' }, configure)).toBe('none');
    expect(configure).not.toHaveBeenCalled();
  });

  it('configures App Insights once with the connection string when it is set', async () => {
    const { configure, calls } = recordingConfigure();
    expect(
      await configureTelemetry({ APPLICATIONINSIGHTS_CONNECTION_STRING: connectionString }, configure),
    ).toBe('azure-monitor');
    expect(calls).toEqual([{ connectionString }]);
  });

  it('passes the Entra ID client id of APPLICATIONINSIGHTS_AUTHENTICATION_STRING', async () => {
    const { configure, calls } = recordingConfigure();
    await configureTelemetry(
      {
        APPLICATIONINSIGHTS_CONNECTION_STRING: connectionString,
        APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=abc-123;Authorization=AAD',
      },
      configure,
    );
    expect(calls).toEqual([{ connectionString, entraClientId: 'abc-123' }]);
  });

  it('lets a failing set-up fail the start', async () => {
    const configure: ConfigureAzureMonitor = async () => {
      throw new Error('invalid instrumentation key');
    };
    await expect(
      configureTelemetry({ APPLICATIONINSIGHTS_CONNECTION_STRING: connectionString }, configure),
    ).rejects.toThrow(/instrumentation key/);
  });
});

describe('entraClientIdOf', () => {
  it('reads the App Service authentication string', () => {
    expect(entraClientIdOf(undefined)).toBeUndefined();
    expect(entraClientIdOf('Authorization=AAD;ClientId=id-1')).toBe('id-1');
    expect(entraClientIdOf('authorization=aad')).toBe('');
    expect(entraClientIdOf('Authorization=Key;ClientId=id-1')).toBeUndefined();
  });
});

describe('azureMonitorOptions', () => {
  it('keeps every span, turns off live metrics and raw HTTP spans, and passes the credential', () => {
    const credential = new FakeCredential();
    const options = azureMonitorOptions({ connectionString, entraClientId: 'id' }, credential);
    expect(options.azureMonitorExporterOptions).toEqual({ connectionString, credential });
    expect(options).toMatchObject({ samplingRatio: 1, tracesPerSecond: 0, enableLiveMetrics: false });
    expect(options.instrumentationOptions?.http?.enabled).toBe(false);
  });
});

describe('loading applicationinsights', () => {
  it('happens only in the lazy set-up: no app module imports it at load', () => {
    const root = fileURLToPath(new URL('../', import.meta.url));
    const skip = new Set(['node_modules', 'dist', '.local', '.git']);
    const sources: string[] = [];
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        if (skip.has(entry.name)) continue;
        const path = join(dir, entry.name);
        if (entry.isDirectory()) walk(path);
        else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) sources.push(path);
      }
    };
    walk(root);
    const loaders = sources.filter((path) =>
      /^\s*import\s+(?!type\b)[^;]*from\s+'applicationinsights'|require\('applicationinsights'\)|import\('applicationinsights'\)/m.test(
        readFileSync(path, 'utf8'),
      ),
    );
    expect(loaders.map((path) => path.slice(root.length))).toEqual([join('telemetry', 'setup.ts')]);
    expect(readFileSync(join(root, 'telemetry', 'setup.ts'), 'utf8')).not.toMatch(
      /^import\s+(?!type\b)[^;]*from 'applicationinsights'/m,
    );
  });
});
