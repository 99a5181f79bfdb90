import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, publicConfig } from './config.js';

const storage =
  'DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=c2VjcmV0;BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;';

describe('app configuration', () => {
  it('applies defaults from the settings catalogue', () => {
    const config = loadConfig({ AzureWebJobsStorage: storage });
    expect(config.platform).toBe('local');
    expect(config.containers.raw).toBe('raw');
    expect(config.taskHubName).toBe('mlops');
  });

  it('fails fast naming the missing setting', () => {
    expect(() => loadConfig({})).toThrow(/AzureWebJobsStorage/);
    try {
      loadConfig({ AzureWebJobsStorage: storage, MLOPS_PLATFORM: 'azure', AZURE_SUBSCRIPTION_ID: 'sub' });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).settings).toEqual(['AZURE_RESOURCE_GROUP', 'AML_WORKSPACE_NAME']);
    }
    expect(() => loadConfig({ AzureWebJobsStorage: storage, MLOPS_PLATFORM: 'cloud' })).toThrow(
      /MLOPS_PLATFORM/,
    );
  });

  it('shows no secrets', () => {
    const shown = JSON.stringify(publicConfig(loadConfig({ AzureWebJobsStorage: storage })));
    expect(shown).not.toContain('AccountKey');
    expect(shown).toContain('http://127.0.0.1:10000/devstoreaccount1');
  });
});
