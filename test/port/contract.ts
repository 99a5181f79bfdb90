/**
 * The ML platform port's contract, run against every adapter (local: real processes and Azurite; Azure:
 * the ARM fake). Each adapter's test file supplies a context; the assertions are the same.
 */
import { EventGridDeserializer } from '@azure/eventgrid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isMlPlatformError, isTerminalJobStatus, type JobInfo, type MlPlatform } from '../../aml/port.js';

/** What an adapter's test file provides. */
export interface PortTestContext {
  platform: MlPlatform;
  /** Puts the tiny job's input files where `azureml://datastores/workspaceblobstore/paths/port-tests/input/` points. */
  seedJobInput(files: Record<string, string>): Promise<void>;
  /** ML events the platform emitted (local only; Azure emits them itself). */
  mlEvents?: () => Promise<unknown[]>;
  /** Lets a long-running operation or job make progress between polls (fakes); default: a short sleep. */
  tick?: () => Promise<void>;
  close(): Promise<void>;
}

const jobSpec = 'test/port/fixtures/tiny-job.yml';
const deploymentSpec = 'test/port/fixtures/fast-deployment.yml';

async function until<T>(
  read: () => Promise<T>,
  done: (v: T) => boolean,
  tick: () => Promise<void>,
  polls = 400,
): Promise<T> {
  for (let i = 0; i < polls; i++) {
    const value = await read();
    if (done(value)) return value;
    await tick();
  }
  throw new Error('condition not reached');
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => {
      throw new Error('expected a rejection');
    },
    (err: unknown) => err,
  );
}

/** Registers the contract tests for one adapter. */
export function definePortContract(adapter: string, makeContext: () => Promise<PortTestContext>): void {
  describe(`ML platform port contract: ${adapter}`, () => {
    let ctx: PortTestContext;
    let tick: () => Promise<void>;
    const run = `r${Date.now().toString(36)}`;
    const waitForJob = (name: string): Promise<JobInfo> =>
      until(
        () => ctx.platform.getJob(name),
        (j) => isTerminalJobStatus(j.status),
        tick,
      );

    beforeAll(async () => {
      ctx = await makeContext();
      tick = ctx.tick ?? (() => new Promise((r) => setTimeout(r, 50)));
      await ctx.seedJobInput({ 'a.csv': 'x\n1\n', 'sub/b.csv': 'x\n2\n' });
    }, 120_000);
    afterAll(async () => {
      await ctx?.close();
    });

    describe('jobs', () => {
      it('runs a job to Completed, with its outputs and metrics, and answers a resubmission with the same job', async () => {
        const name = `${run}-ok`;
        const submitted = await ctx.platform.submitJob({ name, specPath: jobSpec, tags: { 'saga.id': run } });
        expect(submitted.name).toBe(name);
        expect(submitted.tags).toMatchObject({ suite: 'port', 'saga.id': run });
        const done = await waitForJob(name);
        expect(done.status).toBe('Completed');
        expect(done.outputs.model?.uri).toMatch(/^azureml:\/\/datastores\/workspaceblobstore\/paths\/.+/);
        const metrics = await ctx.platform.getJobMetrics(name);
        expect(metrics).toMatchObject({ wape: 0.125, inputFiles: 2 });

        const again = await ctx.platform.submitJob({ name, specPath: jobSpec, tags: { 'saga.id': run } });
        expect(again.status).toBe('Completed');
      });

      it('reports a failing command as Failed', async () => {
        const name = `${run}-fail`;
        await ctx.platform.submitJob({ name, specPath: jobSpec, inputs: { mode: 'fail' } });
        expect((await waitForJob(name)).status).toBe('Failed');
      });

      it('cancels a running job', async () => {
        const name = `${run}-slow`;
        await ctx.platform.submitJob({ name, specPath: jobSpec, inputs: { mode: 'slow' } });
        await until(
          () => ctx.platform.getJob(name),
          (j) => j.status === 'Running',
          tick,
        );
        await ctx.platform.cancelJob(name);
        expect((await waitForJob(name)).status).toBe('Canceled');
      });

      it('refuses an unknown job and a bad job name', async () => {
        expect(await rejection(ctx.platform.getJob(`${run}-never`))).toSatisfy((e) =>
          isMlPlatformError(e, 'NotFound'),
        );
        expect(await rejection(ctx.platform.submitJob({ name: 'bad name!', specPath: jobSpec }))).toSatisfy(
          (e) => isMlPlatformError(e, 'InvalidRequest'),
        );
      });
    });

    describe('model registry', () => {
      const model = `demand-${run}`;
      it('registers versions idempotently, refuses changed content and keeps tags', async () => {
        const job = `${run}-ok`;
        const input = {
          name: model,
          version: '1',
          modelType: 'custom_model' as const,
          modelUri: `azureml://jobs/${job}/outputs/model`,
          jobName: job,
          tags: { 'saga.id': run },
          properties: { gate: 'passed' },
        };
        const v1 = await ctx.platform.registerModel(input);
        expect(v1).toMatchObject({
          name: model,
          version: '1',
          tags: { 'saga.id': run },
          properties: { gate: 'passed' },
        });
        expect(await ctx.platform.registerModel(input)).toMatchObject({ name: model, version: '1' });
        const changed = await rejection(
          ctx.platform.registerModel({ ...input, properties: { gate: 'other' } }),
        );
        expect(changed).toSatisfy((e) => isMlPlatformError(e, 'Conflict'));

        await ctx.platform.registerModel({ ...input, version: '2' });
        await ctx.platform.setModelTags(model, '2', { champion: 'true' });
        await ctx.platform.setModelTags(model, '1', { rejected: 'gate' });
        expect((await ctx.platform.getModel(model, '2')).tags).toEqual({ 'saga.id': run, champion: 'true' });
        expect((await ctx.platform.listModels(model)).map((m) => m.version)).toEqual(['2', '1']);
        expect(
          (await ctx.platform.listModels(model, { tag: { key: 'champion', value: 'true' } })).map(
            (m) => m.version,
          ),
        ).toEqual(['2']);
        expect(await rejection(ctx.platform.getModel(model, '9'))).toSatisfy((e) =>
          isMlPlatformError(e, 'NotFound'),
        );
      });

      it('emits ModelRegistered with the real schema (where the adapter emits events)', async () => {
        if (!ctx.mlEvents) return;
        const events = await until(
          () => ctx.mlEvents?.() ?? Promise.resolve([]),
          (all) => all.some((e) => (e as { subject?: string }).subject === `models/${model}:2`),
          tick,
        );
        const parsed = await new EventGridDeserializer().deserializeEventGridEvents(JSON.stringify(events));
        const registered = parsed.find((e) => e.subject === `models/${model}:2`);
        expect(registered?.eventType).toBe('Microsoft.MachineLearningServices.ModelRegistered');
        expect(registered?.data).toMatchObject({ ModelName: model, ModelVersion: 2 });
        const runEvents = parsed.filter(
          (e) => e.eventType === 'Microsoft.MachineLearningServices.RunCompleted',
        );
        expect(runEvents.map((e) => (e.data as { runId: string }).runId)).toContain(`${run}-ok`);
        const failed = parsed.find(
          (e) =>
            e.eventType === 'Microsoft.MachineLearningServices.RunStatusChanged' &&
            (e.data as { runId: string; runStatus: string }).runId === `${run}-fail` &&
            (e.data as { runStatus: string }).runStatus.toLowerCase() === 'failed',
        );
        expect(failed?.subject).toMatch(new RegExp(`^experiments/[0-9a-f-]+/runs/${run}-fail$`));
        expect(failed?.data).toMatchObject({ experimentName: 'port-tests', runTags: { suite: 'port' } });
      });
    });

    describe('online endpoint', () => {
      const endpoint = `ep-${run}`;
      const model = { name: `demand-${run}`, version: '1' };
      it('creates an endpoint and two deployments that take no traffic until told', async () => {
        await ctx.platform.createOrUpdateEndpoint(
          { name: endpoint, authMode: 'Key', tags: { app: 'port-test' } },
          { wait: true },
        );
        for (const name of ['blue', 'green']) {
          const created = await ctx.platform.createOrUpdateDeployment(
            {
              endpointName: endpoint,
              name,
              model: name === 'blue' ? model : { ...model, version: '2' },
              specPath: deploymentSpec,
            },
            { wait: true, timeoutMs: 60_000 },
          );
          expect(created.provisioningState).toBe('Succeeded');
        }
        const ep = await ctx.platform.getEndpoint(endpoint);
        expect(ep.traffic).toEqual({});
        expect((await ctx.platform.listDeployments(endpoint)).map((d) => d.name).sort()).toEqual([
          'blue',
          'green',
        ]);
        expect((await ctx.platform.getDeployment(endpoint, 'green')).model).toEqual({
          ...model,
          version: '2',
        });
      }, 90_000);

      it('enforces the traffic rules', async () => {
        await ctx.platform.setTraffic(endpoint, { blue: 100 }, {}, { wait: true });
        expect(await rejection(ctx.platform.setTraffic(endpoint, { blue: 90 }))).toSatisfy((e) =>
          isMlPlatformError(e, 'InvalidRequest'),
        );
        expect(await rejection(ctx.platform.setTraffic(endpoint, { blue: 50, nope: 50 }))).toSatisfy((e) =>
          isMlPlatformError(e, 'InvalidRequest'),
        );
        expect(await rejection(ctx.platform.setTraffic(endpoint, { blue: 100 }, { green: 60 }))).toSatisfy(
          (e) => isMlPlatformError(e, 'InvalidRequest'),
        );
        const mirrored = await ctx.platform.setTraffic(
          endpoint,
          { blue: 100 },
          { green: 10 },
          { wait: true },
        );
        expect(mirrored.mirrorTraffic).toEqual({ green: 10 });
        expect(await rejection(ctx.platform.deleteDeployment(endpoint, 'green'))).toSatisfy((e) =>
          isMlPlatformError(e, 'Conflict'),
        );
        const canary = await ctx.platform.setTraffic(endpoint, { blue: 90, green: 10 }, {}, { wait: true });
        expect(canary.traffic).toEqual({ blue: 90, green: 10 });
        expect(canary.mirrorTraffic).toEqual({});
        expect(await rejection(ctx.platform.deleteDeployment(endpoint, 'green'))).toSatisfy((e) =>
          isMlPlatformError(e, 'Conflict'),
        );
      });

      it('scores through the split or one deployment and reads per-deployment metrics', async () => {
        const pinned = await ctx.platform.invokeEndpoint(endpoint, { keys: ['a'] }, { deployment: 'green' });
        expect(pinned.status).toBe(200);
        expect(pinned.deployment).toBe('green');
        for (let i = 0; i < 6; i++) {
          expect(
            (await ctx.platform.invokeEndpoint(endpoint, { keys: ['a'] }, { deployment: 'blue' })).status,
          ).toBe(200);
        }
        const split = await ctx.platform.invokeEndpoint(endpoint, { keys: ['a'] });
        expect(['blue', 'green']).toContain(split.deployment);
        const blue = await ctx.platform.getDeploymentMetrics(endpoint, 'blue', 600_000);
        expect(blue.requests).toBeGreaterThanOrEqual(6);
        expect(blue.errorRate).toBe(0);
        expect(blue.p95LatencyMs).not.toBeNull();
      });

      it('deletes a deployment once its traffic is gone', async () => {
        await ctx.platform.setTraffic(endpoint, { blue: 100 }, {}, { wait: true });
        await ctx.platform.deleteDeployment(endpoint, 'green', { wait: true });
        expect(await rejection(ctx.platform.getDeployment(endpoint, 'green'))).toSatisfy((e) =>
          isMlPlatformError(e, 'NotFound'),
        );
        await ctx.platform.deleteDeployment(endpoint, 'green', { wait: true });
      });
    });
  });
}
