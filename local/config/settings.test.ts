import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  applySettingsToEnv,
  HostConfigError,
  readHostJson,
  readLocalSettings,
  resolveSettingPlaceholders,
  routePrefixOf,
} from './settings.js';

const tempDir = () => mkdtemp(path.join(os.tmpdir(), 'settings-'));

describe('host settings', () => {
  it('applies Values to the environment without overwriting what is set', () => {
    const env: NodeJS.ProcessEnv = { KEEP: 'env' };
    expect(applySettingsToEnv({ KEEP: 'file', NEW: 'file' }, env)).toEqual(['NEW']);
    expect(env).toEqual({ KEEP: 'env', NEW: 'file' });
  });

  it('reads local.settings.json (with a BOM), or the sample when asked, or nothing', async () => {
    const dir = await tempDir();
    expect((await readLocalSettings(dir)).Values).toEqual({});
    await writeFile(
      path.join(dir, 'local.settings.json.sample'),
      JSON.stringify({ Values: { A: 'sample' } }),
    );
    expect((await readLocalSettings(dir)).Values).toEqual({});
    const sample = await readLocalSettings(dir, { fallbackToSample: true });
    expect(sample.Values).toEqual({ A: 'sample' });
    expect(sample.source).toMatch(/\.sample$/);
    await writeFile(
      path.join(dir, 'local.settings.json'),
      `\uFEFF${JSON.stringify({ Values: { A: 'real', N: 3 }, Host: { LocalHttpPort: 7123 } })}`,
    );
    const real = await readLocalSettings(dir, { fallbackToSample: true });
    expect(real.Values).toEqual({ A: 'real', N: '3' });
    expect(real.Host.LocalHttpPort).toBe(7123);
    await writeFile(path.join(dir, 'local.settings.json'), '{ nope');
    await expect(readLocalSettings(dir)).rejects.toMatchObject({ code: 'BAD_LOCAL_SETTINGS' });
  });

  it('reads the route prefix from host.json', async () => {
    const dir = await tempDir();
    expect(routePrefixOf(await readHostJson(dir))).toBe('api');
    await writeFile(
      path.join(dir, 'host.json'),
      JSON.stringify({ extensions: { http: { routePrefix: '' } } }),
    );
    expect(routePrefixOf(await readHostJson(dir))).toBe('');
    expect(routePrefixOf({ extensions: { http: { routePrefix: '/v1/' } } })).toBe('v1');
  });

  it('resolves %Setting% placeholders and names a missing one', () => {
    expect(resolveSettingPlaceholders('0 0 %HOUR% * * %DAY%', { HOUR: '2', DAY: 'Mon' })).toBe(
      '0 0 2 * * Mon',
    );
    expect(() => resolveSettingPlaceholders('%MISSING%', {})).toThrow(HostConfigError);
    expect(() => resolveSettingPlaceholders('%MISSING%', {})).toThrow(/"MISSING"/);
  });
});
