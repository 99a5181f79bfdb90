import type { AccessToken, TokenCredential } from '@azure/core-auth';
import { describe, expect, it } from 'vitest';
import { createPlatform, credentialOptions, sharedCredential } from './platform.js';

/** A credential that never talks to anything. */
class FakeCredential implements TokenCredential {
  getToken(): Promise<AccessToken> {
    return Promise.resolve({ token: 'fake', expiresOnTimestamp: Date.now() + 60_000 });
  }
}

const azureEnv = {
  AZURE_CLIENT_ID: '00000000-0000-0000-0000-00000000c1d0',
  AZURE_SUBSCRIPTION_ID: 'sub',
  AZURE_RESOURCE_GROUP: 'rg',
  AML_WORKSPACE_NAME: 'ws',
  AML_LOCATION: 'westeurope',
  DATA_LAKE_ACCOUNT_URL: 'https://lake.blob.core.windows.net',
};

describe('the app credential', () => {
  it('names the user-assigned identity AZURE_CLIENT_ID gives, and the default chain without it', () => {
    expect(credentialOptions({ AZURE_CLIENT_ID: 'abc' })).toEqual({ managedIdentityClientId: 'abc' });
    expect(credentialOptions({})).toEqual({});
  });

  it('is built once, with those options, and shared by every caller', () => {
    const built: unknown[] = [];
    const credential = sharedCredential({ AZURE_CLIENT_ID: 'abc' }, (options) => {
      built.push(options);
      return new FakeCredential();
    });
    expect(credential()).toBe(credential());
    expect(built).toEqual([{ managedIdentityClientId: 'abc' }]);
  });

  it('is the one the Azure platform adapter uses and the handle hands out (for the health check)', () => {
    const fake = new FakeCredential();
    let builds = 0;
    const credential = sharedCredential(azureEnv, () => {
      builds++;
      return fake;
    });
    const handle = createPlatform(azureEnv, 'azure', '/app', ['raw'], credential);
    expect(handle.credential()).toBe(fake);
    expect(credential()).toBe(fake);
    expect(builds).toBe(1);
  });
});
