// The Azure ML assets only this repository can provide (job code, job and inference environments) are
// registered by infra/hooks/postdeploy and reach the app as settings. This runs the POSIX hook against fake
// `az`/`azd` commands (nothing leaves the machine) and checks the Bicep carries the ids through provisions.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { appSettings } from '../../functions/settings.js';
import {
  loadAllBicep,
  moduleParams,
  entryText,
  repoRoot,
  stringAt,
  type BicepSource,
} from './infraSources.js';
import { valueAt } from './bicep.js';

const assetSettings = ['AML_CODE_ID', 'AML_JOB_ENVIRONMENT_ID', 'AML_INFERENCE_ENVIRONMENT_ID'] as const;
const bin = mkdtempSync(join(tmpdir(), 'postdeploy-'));
afterAll(() => rmSync(bin, { recursive: true, force: true }));

/** Runs postdeploy.sh with fake CLIs; `registered` says whether `az ml ... show` finds an asset version. */
function runPostdeploy(registered: boolean): string[] {
  const log = join(bin, 'calls.log');
  writeFileSync(log, '');
  writeFileSync(
    join(bin, 'az'),
    `#!/bin/sh
echo "az $*" >> "${log}"
case "$*" in
  "account show"*) exit 0;;
  "ml environment show"*"--query id"*) echo "/ws/environments/$5/versions/$7";;
  "ml code show"*"--query id"*) echo "/ws/codes/$5/versions/$7";;
  "ml "*" show"*) ${registered ? 'exit 0' : 'exit 3'};;
esac
exit 0
`,
  );
  writeFileSync(
    join(bin, 'azd'),
    `#!/bin/sh
echo "azd $*" >> "${log}"
case "$*" in
  "env get-value EVENT_SUBSCRIPTIONS_ENABLED") echo true;;
  "env get-value "*) echo "the-$3";;
esac
`,
  );
  chmodSync(join(bin, 'az'), 0o755);
  chmodSync(join(bin, 'azd'), 0o755);
  execFileSync('sh', [join(repoRoot, 'infra/hooks/postdeploy.sh')], {
    env: { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}` },
    stdio: 'pipe',
  });
  return readFileSync(log, 'utf8').trim().split('\n');
}

describe('infra: Azure ML assets registered at deploy', () => {
  it('registers code and both environments once, then hands their ids to the app and to later provisions', () => {
    const calls = runPostdeploy(false);
    const creates = calls.filter((c) => / create /.test(c));
    expect(creates).toHaveLength(3);
    expect(creates[0]).toMatch(
      /^az ml code create --name demand-forecast-src --version [0-9a-f]{16} --path /,
    );
    expect(creates[1]).toMatch(
      /^az ml environment create --name demand-forecast-jobs --version [0-9a-f]{16} --build-context \S+ --dockerfile-path inference\/train.Dockerfile --resource-group the-AZURE_RESOURCE_GROUP --workspace-name the-AML_WORKSPACE_NAME/,
    );
    expect(creates[2]).toMatch(
      /--name demand-forecast-infer .*--dockerfile-path inference\/infer.Dockerfile/,
    );
    for (const name of assetSettings) {
      expect(
        calls.some((c) => c.startsWith(`azd env set ${name} /ws/`)),
        name,
      ).toBe(true);
    }
    const appSet = calls.find((c) => c.startsWith('az functionapp config appsettings set'));
    expect(appSet).toContain('--name the-AZURE_FUNCTION_APP_NAME');
    expect(appSet).toMatch(/AML_CODE_ID=\/ws\/codes\/demand-forecast-src\/versions\/[0-9a-f]{16}/);

    // Same content → same versions → nothing uploaded or rebuilt on the next deploy.
    const again = runPostdeploy(true);
    expect(again.filter((c) => / create /.test(c))).toEqual([]);
    const versions = (lines: string[]) => lines.filter((c) => c.startsWith('azd env set AML_')).sort();
    expect(versions(again)).toEqual(versions(calls));
  });

  it('passes the registered ids from the azd environment through main.bicep into the app settings', () => {
    const all = loadAllBicep();
    const main = all[0] as BicepSource;
    const functionApp = all.find((s) => s.path === 'app/functionapp.bicep') as BicepSource;
    const parameters = JSON.parse(readFileSync(join(repoRoot, 'infra/main.parameters.json'), 'utf8')) as {
      parameters: Record<string, { value: string }>;
    };
    const config = functionApp.resources.find(
      (r) => r.type === 'Microsoft.Web/sites/config' && stringAt(r.body, 'name') === 'appsettings',
    );
    const settings = valueAt(config?.body, 'properties');
    const params = moduleParams(main, 'functionApp');
    for (const [setting, param] of [
      ['AML_CODE_ID', 'amlCodeId'],
      ['AML_JOB_ENVIRONMENT_ID', 'amlJobEnvironmentId'],
      ['AML_INFERENCE_ENVIRONMENT_ID', 'amlInferenceEnvironmentId'],
    ] as const) {
      expect(appSettings[setting].azure, setting).toBe('optional');
      expect(entryText(settings, setting), setting).toBe(param);
      expect(entryText(params, param), param).toBe(param);
      expect(parameters.parameters[param]?.value, param).toBe(`\${${setting}=}`);
    }
  });
});
