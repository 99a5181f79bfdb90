import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { isMlPlatformError } from '../port.js';
import { commandJobBody } from './jobBody.js';
import { loadCommandJob, resolveOptionalSections, substitutePlaceholders } from './jobSpec.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const ws = '/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/w';
const series = { type: 'uri_folder' as const, path: 'azureml://jobs/s1-etl/outputs/series' };

function localCommand(command: string, given: Record<string, string>): string {
  return substitutePlaceholders(
    resolveOptionalSections(command, (_kind, name) => name in given),
    (_kind, name) => given[name],
  );
}

describe('CLI v2 job specs', () => {
  it('reads train.yml: bound inputs keep the spec mode, literals default, the optional champion section drops', async () => {
    const job = await loadCommandJob(
      { name: 's1-train', specPath: 'aml/jobs/train.yml', inputs: { series } },
      root,
    );
    expect(job.inputs.series).toEqual({ kind: 'data', ...series, mode: 'ro_mount' });
    expect(job.inputs.horizon).toEqual({ kind: 'literal', value: '7' });
    expect(job.inputs.champion).toBeUndefined();
    expect(job.timeoutSeconds).toBe(7200);
    const given = { series: '/in', model: '/out', key_type: 'category_code', horizon: '7', seed: '1' };
    expect(localCommand(job.command, given)).not.toContain('champion');
    expect(localCommand(job.command, { ...given, champion: '/champ' })).toContain('--champion /champ');
  });

  it('refuses a submission that leaves a required data input unbound', async () => {
    const err = await loadCommandJob({ name: 's1-train', specPath: 'aml/jobs/train.yml' }, root).catch(
      (e: unknown) => e,
    );
    expect(isMlPlatformError(err, 'JobSpecInvalid')).toBe(true);
    expect((err as Error).message).toContain('series');
  });

  it('builds the ARM body with CLI modes mapped, the optional section left to the service and ids resolved', async () => {
    const job = await loadCommandJob(
      { name: 's1-train', specPath: 'aml/jobs/train.yml', inputs: { series } },
      root,
    );
    job.environment = 'azureml:demand-forecast-jobs:4';
    const body = commandJobBody(job, {
      workspaceId: ws,
      codeIds: { 'train.yml': `${ws}/codes/repo/versions/9` },
    });
    expect(body.properties).toMatchObject({
      jobType: 'Command',
      environmentId: `${ws}/environments/demand-forecast-jobs/versions/4`,
      codeId: `${ws}/codes/repo/versions/9`,
      computeId: `${ws}/computes/cpu-cluster`,
      inputs: {
        series: { jobInputType: 'uri_folder', uri: series.path, mode: 'ReadOnlyMount' },
        seed: { jobInputType: 'literal', value: '1' },
      },
      outputs: { model: { jobOutputType: 'uri_folder', mode: 'ReadWriteMount' } },
      limits: { jobLimitsType: 'Command', timeout: 'PT7200S' },
    });
    expect(body.properties.command).toContain('$[[--champion ${{inputs.champion}}]]');
  });

  it('uses the environment the deploy step registered instead of the YAML @latest reference', async () => {
    const job = await loadCommandJob({ name: 's2-train', specPath: 'aml/jobs/train.yml', inputs: { series } }, root);
    expect(() => commandJobBody(job, { workspaceId: ws, codeIds: { 'train.yml': 'c' } })).toThrow(/@latest/);
    const body = commandJobBody(job, {
      workspaceId: ws,
      codeIds: { 'train.yml': `${ws}/codes/repo/versions/9` },
      environmentIds: { 'train.yml': `${ws}/environments/demand-forecast-jobs/versions/abc123` },
    });
    expect(body.properties.environmentId).toBe(`${ws}/environments/demand-forecast-jobs/versions/abc123`);
  });

  it('refuses a local code folder without a registered code asset', async () => {
    const job = await loadCommandJob({ name: 'e', specPath: 'aml/jobs/etl.yml' }, root);
    job.environment = 'azureml:env:1';
    expect(() => commandJobBody(job, { workspaceId: ws })).toThrow(/code asset/);
  });
});
