import { mkdtemp, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { HostKeys } from './keys.js';

describe('host keys', () => {
  it('creates the keys file on first start and reuses it afterwards', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'keys-'));
    const first = await HostKeys.load(dir);
    expect(first.created).toBe(true);
    const second = await HostKeys.load(dir);
    expect(second.created).toBe(false);
    expect(second.masterKey).toBe(first.masterKey);
    expect(second.defaultFunctionKey).toBe(first.defaultFunctionKey);
    expect(first.masterKey).not.toBe(first.defaultFunctionKey);
    const stored = JSON.parse(await readFile(path.join(dir, 'keys.json'), 'utf8')) as { masterKey: string };
    expect(stored.masterKey).toBe(first.masterKey);
  });

  it('grants function level to function and master keys, admin level to the master key only', async () => {
    const keys = await HostKeys.load(await mkdtemp(path.join(os.tmpdir(), 'keys-')));
    expect(keys.authorizes('anonymous', undefined)).toBe(true);
    expect(keys.authorizes('function', undefined)).toBe(false);
    expect(keys.authorizes('function', 'wrong')).toBe(false);
    expect(keys.authorizes('function', keys.defaultFunctionKey)).toBe(true);
    expect(keys.authorizes('function', keys.masterKey)).toBe(true);
    expect(keys.authorizes('admin', keys.defaultFunctionKey)).toBe(false);
    expect(keys.authorizes('admin', keys.masterKey)).toBe(true);
    const system = keys.systemKey('durabletask_extension');
    expect(keys.systemKey('durabletask_extension')).toBe(system);
  });
});
