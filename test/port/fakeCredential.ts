import type { AccessToken, TokenCredential } from '@azure/core-auth';

/** A TokenCredential that never leaves the process: the token names its scope so fakes can check it. */
export class FakeCredential implements TokenCredential {
  readonly scopes: string[] = [];

  async getToken(scopes: string | string[]): Promise<AccessToken> {
    const scope = [scopes].flat()[0] ?? '';
    this.scopes.push(scope);
    return { token: `fake-${scope}`, expiresOnTimestamp: Date.now() + 3_600_000, tokenType: 'Bearer' };
  }
}
