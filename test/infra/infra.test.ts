// Checks infra/ (Bicep cannot be compiled here) against what the app needs: settings, Event Grid
// subscriptions, roles, secure defaults, tags and alerts. See bicep.ts for the reader.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { appSettings, requiredAzureSettings } from '../../functions/settings.js';
import {
  declarationOf,
  type ResolvedResource,
  textOf,
  undeclaredReferences,
  unusedDeclarations,
  valueAt,
} from './bicep.js';
import {
  type BicepSource,
  entryText,
  loadAllBicep,
  loadEventSubscriptions,
  moduleCallFor,
  moduleParams,
  onlyResource,
  repoRoot,
  squash,
  stringAt,
} from './infraSources.js';

const all = loadAllBicep();
const main = all[0] as BicepSource;
const source = (path: string): BicepSource => {
  const found = all.find((s) => s.path === path);
  if (!found) throw new Error(`infra/${path} missing`);
  return found;
};
const functionApp = source('app/functionapp.bicep');
const rbac = source('app/rbac.bicep');
const eventGrid = source('app/eventgrid.bicep');
const subscriptionsBicep = source('app/eventSubscriptions.bicep');
const alerts = source('app/alerts.bicep');
const eventList = loadEventSubscriptions();

/** The Function App's app settings: the properties of its `appsettings` config resource. */
function functionAppSettings() {
  const configs = functionApp.resources.filter(
    (r) => r.type === 'Microsoft.Web/sites/config' && stringAt(r.body, 'name') === 'appsettings',
  );
  expect(configs).toHaveLength(1);
  const properties = valueAt(configs[0]?.body, 'properties');
  if (properties?.kind !== 'object') throw new Error('appsettings.properties is not an object literal');
  return properties.entries;
}

/** Name param of an `existing` resource in a module, e.g. hostStorage -> hostStorageName. */
function existingNameParam(module: BicepSource, symbol: string): string {
  const resource = module.resources.find((r) => r.symbol === symbol);
  if (!resource) throw new Error(`${module.path}: no resource ${symbol}`);
  return entryText(resource.body, 'name');
}

describe('infra: Bicep sources', () => {
  it('parses every file and pins an API version on every resource', () => {
    expect(all.length).toBeGreaterThanOrEqual(8);
    for (const file of all) {
      for (const r of file.resources) {
        expect(r.apiVersion, `${file.path} ${r.symbol}`).toMatch(/^\d{4}-\d{2}-\d{2}(-preview)?$/);
      }
    }
  });

  it('deploys every module under infra/app from main.bicep, into the resource group', () => {
    for (const file of all.slice(1)) {
      const call = moduleCallFor(main, `./${file.path}`);
      expect(call, `${file.path} is not deployed by main.bicep`).toBeDefined();
      expect(squash(textOf(valueAt(call?.value, 'scope')))).toBe('rg');
    }
  });

  it('references only declared names, as the Bicep compiler requires', () => {
    for (const file of all) expect(undeclaredReferences(file.text), file.path).toEqual([]);
  });

  it('declares no param or var that nothing reads', () => {
    for (const file of all) expect(unusedDeclarations(file.text), file.path).toEqual([]);
  });

  it('reads only outputs that the modules declare', () => {
    const used = [...main.text.matchAll(/(\w+)\.outputs\.(\w+)/g)];
    expect(used.length).toBeGreaterThan(20);
    for (const [, moduleSymbol = '', output = ''] of used) {
      const call = declarationOf(main.declarations, 'module', moduleSymbol);
      const file = all.find((s) => `./${s.path}` === call?.type);
      expect(file, moduleSymbol).toBeDefined();
      expect(
        declarationOf(file?.declarations ?? [], 'output', output),
        `${moduleSymbol}.outputs.${output}`,
      ).toBeDefined();
    }
  });

  it('passes every required module parameter and no unknown one', () => {
    for (const file of all.slice(1)) {
      const params = moduleParams(main, (moduleCallFor(main, `./${file.path}`) as { symbol: string }).symbol);
      const declared = file.declarations.filter((d) => d.keyword === 'param');
      for (const p of declared) {
        if (p.value === undefined)
          expect(params.entries.has(p.symbol), `${file.path}: ${p.symbol}`).toBe(true);
      }
      const names = new Set(declared.map((d) => d.symbol));
      for (const key of params.entries.keys())
        expect(names.has(key), `${file.path}: unknown ${key}`).toBe(true);
    }
  });
});

describe('infra: Function App settings', () => {
  const settings = functionAppSettings();

  it("sets every app setting functions/settings.ts marks azure: 'required'", () => {
    expect(requiredAzureSettings.length).toBeGreaterThan(10);
    const missing = requiredAzureSettings.filter((name) => !settings.has(name));
    expect(missing).toEqual([]);
    for (const name of requiredAzureSettings) {
      expect(squash(textOf(settings.get(name))), name).not.toBe("''");
    }
  });

  it('sets only settings the app knows, plus the App Insights Entra ID string', () => {
    const known = new Set<string>([...Object.keys(appSettings), 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING']);
    expect([...settings.keys()].filter((k) => !known.has(k))).toEqual([]);
    for (const [name, spec] of Object.entries(appSettings)) {
      if (spec.azure === 'local-only') expect(settings.has(name), name).toBe(false);
    }
  });

  it('uses identity-based AzureWebJobsStorage and the Azure ML adapter, with no keys anywhere', () => {
    expect(stringAt(settingsObject(), 'AzureWebJobsStorage__credential')).toBe('managedidentity');
    expect(settings.has('AzureWebJobsStorage')).toBe(false);
    expect(stringAt(settingsObject(), 'MLOPS_PLATFORM')).toBe('azure');
    // Flex Consumption rejects these; the runtime comes from functionAppConfig.
    expect(settings.has('FUNCTIONS_WORKER_RUNTIME')).toBe(false);
    expect(settings.has('WEBSITE_NODE_DEFAULT_VERSION')).toBe(false);
    for (const [name, value] of settings) {
      expect(textOf(value), name).not.toMatch(/listKeys|AccountKey=|SharedAccessKey|primaryKey/i);
    }
    // AzureWebJobsStorage__clientId and AZURE_CLIENT_ID are the identity the site runs as.
    expect(entryText(settingsObject(), 'AzureWebJobsStorage__clientId')).toBe(
      'appIdentity.properties.clientId',
    );
    expect(entryText(settingsObject(), 'AZURE_CLIENT_ID')).toBe('appIdentity.properties.clientId');
    const site = onlyResource(functionApp, 'Microsoft.Web/sites');
    expect(entryText(site.body, 'identity.type')).toBe("'UserAssigned'");
    expect(entryText(site.body, 'identity.userAssignedIdentities')).toContain('appIdentity.id');
  });

  it('matches host.json: the task hub name and the storage connection come from settings', () => {
    const host = JSON.parse(readFileSync(join(repoRoot, 'host.json'), 'utf8')) as {
      extensions: { durableTask: { hubName: string; storageProvider: { connectionName: string } } };
    };
    const hub = /^%(.+)%$/.exec(host.extensions.durableTask.hubName)?.[1];
    expect(hub).toBe('TASKHUB_NAME');
    expect(settings.has(hub as string)).toBe(true);
    const connection = host.extensions.durableTask.storageProvider.connectionName;
    expect(settings.has(`${connection}__accountName`)).toBe(true);
    expect(settings.has(`${connection}__credential`)).toBe(true);
  });

  it('runs on Flex Consumption with Node 20 and deploys from a blob container with the app identity', () => {
    const plan = onlyResource(functionApp, 'Microsoft.Web/serverfarms');
    expect(stringAt(plan.body, 'sku.tier')).toBe('FlexConsumption');
    expect(stringAt(plan.body, 'sku.name')).toBe('FC1');
    const site = onlyResource(functionApp, 'Microsoft.Web/sites');
    expect(stringAt(site.body, 'properties.functionAppConfig.runtime.name')).toBe('node');
    expect(entryText(site.body, 'properties.functionAppConfig.runtime.version')).toBe('nodeVersion');
    const nodeVersion = declarationOf(main.declarations, 'param', 'nodeVersion');
    expect(squash(textOf(nodeVersion?.value))).toBe("'22'");
    expect(stringAt(site.body, 'properties.functionAppConfig.deployment.storage.authentication.type')).toBe(
      'UserAssignedIdentity',
    );
    expect(entryText(site.body, 'properties.httpsOnly')).toBe('true');
    for (const policy of functionApp.resources.filter((r) =>
      r.type.endsWith('/basicPublishingCredentialsPolicies'),
    )) {
      expect(entryText(policy.body, 'properties.allow')).toBe('false');
    }
  });

  function settingsObject() {
    const configs = functionApp.resources.filter((r) => r.type === 'Microsoft.Web/sites/config');
    return valueAt(configs[0]?.body, 'properties');
  }
});

describe('infra: Event Grid subscriptions', () => {
  // What the issue asks for: which function receives which event from which topic.
  const required = [
    { eventType: 'Microsoft.Storage.BlobCreated', source: 'storage' },
    { eventType: 'Microsoft.MachineLearningServices.ModelRegistered', source: 'mlWorkspace' },
    { eventType: 'Microsoft.MachineLearningServices.DatasetDriftDetected', source: 'mlWorkspace' },
    { eventType: 'Microsoft.MachineLearningServices.RunStatusChanged', source: 'mlWorkspace' },
  ];
  const topicTypes: Record<string, { topicType: string; sourceSymbol: string }> = {
    storage: { topicType: 'Microsoft.Storage.StorageAccounts', sourceSymbol: 'dataLake' },
    mlWorkspace: { topicType: 'Microsoft.MachineLearningServices.Workspaces', sourceSymbol: 'workspace' },
  };

  it('lists one function per required event, with unique names', () => {
    const names = eventList.subscriptions.map((s) => s.functionName);
    expect(new Set(names).size).toBe(names.length);
    for (const need of required) {
      const subs = eventList.subscriptions.filter((s) => s.eventTypes.includes(need.eventType));
      expect(subs, need.eventType).toHaveLength(1);
      expect(subs[0]?.source).toBe(need.source);
    }
    expect(names.sort()).toEqual([
      'onDatasetDrift',
      'onModelRegistered',
      'onMonitorBreach',
      'onRawBlobCreated',
    ]);
    expect(eventList.timerFunctions).toContain('scheduledRetrain');
  });

  it('filters BlobCreated on the raw container and prefix and on .csv.gz', () => {
    const blob = eventList.subscriptions.find((s) => s.eventTypes.includes('Microsoft.Storage.BlobCreated'));
    expect(blob?.subjectBeginsWith).toBe(
      '/blobServices/default/containers/{RAW_CONTAINER}/blobs/{RAW_PREFIX}',
    );
    expect(blob?.subjectEndsWith).toBe('.csv.gz');
    // Only complete files: a DFS CreateFile on the lake also emits BlobCreated, with no data yet.
    const api = blob?.advancedFilters.find((f) => f.key === 'data.api');
    expect(api?.operatorType).toBe('StringIn');
    expect(api?.values).toContain('FlushWithClose');
    expect(api?.values).toContain('PutBlockList');
    expect(api?.values).not.toContain('CreateFile');
    const storageLoop = subscriptionLoopFor('storage');
    const begins = entryText(storageLoop.body, 'properties.filter.subjectBeginsWith');
    expect(begins).toContain("'{RAW_CONTAINER}',rawContainer");
    expect(begins).toContain("'{RAW_PREFIX}',rawPrefix");
    // The same values the Function App gets as RAW_CONTAINER / RAW_PREFIX.
    const subParams = moduleParams(main, 'eventSubscriptions');
    const appParams = moduleParams(main, 'functionApp');
    for (const p of ['rawContainer', 'rawPrefix']) {
      expect(squash(textOf(subParams.entries.get(p)))).toBe(squash(textOf(appParams.entries.get(p))));
    }
  });

  it('filters RunStatusChanged on the model-monitor threshold breach tag', () => {
    const breach = eventList.subscriptions.find((s) =>
      s.eventTypes.includes('Microsoft.MachineLearningServices.RunStatusChanged'),
    );
    expect(breach?.advancedFilters).toEqual([
      {
        key: 'data.RunTags.azureml_modelmonitor_threshold_breached',
        operatorType: 'StringContains',
        values: ['has failed due to one or more features violating metric thresholds'],
      },
    ]);
  });

  it('creates each listed subscription in Bicep, on the right system topic, to the right function', () => {
    expect(subscriptionsBicep.text).toContain("loadJsonContent('../eventSubscriptions.json')");
    for (const sub of eventList.subscriptions) {
      const loop = subscriptionLoopFor(sub.source);
      expect(entryText(loop.body, 'name')).toBe('sub.functionName');
      expect(stringAt(loop.body, 'properties.destination.endpointType')).toBe('AzureFunction');
      expect(entryText(loop.body, 'properties.destination.properties.resourceId')).toBe(
        "'${functionApp.id}/functions/${sub.functionName}'",
      );
      expect(entryText(loop.body, 'properties.filter.includedEventTypes')).toBe('sub.eventTypes');
      expect(entryText(loop.body, 'properties.filter.advancedFilters')).toBe('sub.advancedFilters');
      expect(entryText(loop.body, 'properties.retryPolicy')).toBe('retryPolicy');
      expect(entryText(loop.body, 'properties.deadLetterWithResourceIdentity')).toBe(
        'deadLetterWithResourceIdentity',
      );

      // Follow the parent topic from this module through main.bicep into eventgrid.bicep.
      const parentSymbol = entryText(loop.body, 'parent');
      const nameParam = existingNameParam(subscriptionsBicep, parentSymbol);
      const passed = squash(textOf(moduleParams(main, 'eventSubscriptions').entries.get(nameParam)));
      const output = /^eventGridTopics\.outputs\.(\w+)$/.exec(passed)?.[1];
      expect(output, `${sub.functionName}: topic name comes from eventgrid.bicep`).toBeDefined();
      const outputDecl = declarationOf(eventGrid.declarations, 'output', output as string);
      const topicSymbol = squash(textOf(outputDecl?.value)).replace(/\.name$/, '');
      const topic = eventGrid.resources.find((r) => r.symbol === topicSymbol);
      const expected = topicTypes[sub.source];
      expect(stringAt(topic?.body, 'properties.topicType')).toBe(expected?.topicType);
      expect(entryText(topic?.body, 'properties.source')).toBe(`${expected?.sourceSymbol}.id`);
    }
  });

  it('retries, then dead-letters into a lake container with the Event Grid identity (no keys)', () => {
    const vars = subscriptionsBicep.declarations;
    expect(squash(textOf(declarationOf(vars, 'var', 'retryPolicy')?.value))).toContain(
      'maxDeliveryAttempts:delivery.maxDeliveryAttempts',
    );
    const deadLetter = declarationOf(vars, 'var', 'deadLetterWithResourceIdentity')?.value;
    expect(stringAt(deadLetter, 'identity.type')).toBe('UserAssigned');
    expect(entryText(deadLetter, 'deadLetterDestination.properties.resourceId')).toBe('dataLake.id');
    expect(entryText(deadLetter, 'deadLetterDestination.properties.blobContainerName')).toBe(
      'delivery.deadLetterContainer',
    );
    // The container exists in the lake: main.bicep creates it from the same JSON value.
    expect(squash(textOf(declarationOf(main.declarations, 'var', 'deadLetterContainer')?.value))).toBe(
      'eventGrid.delivery.deadLetterContainer',
    );
    expect(entryText(moduleParams(main, 'storage'), 'dataContainers')).toContain('deadLetterContainer');
    // Subscriptions wait for the functions (postdeploy hook) and for the dead-letter role.
    const call = declarationOf(main.declarations, 'module', 'eventSubscriptions');
    expect(squash(call?.condition ?? '')).toBe('eventSubscriptionsEnabled');
    expect(squash(textOf(valueAt(call?.value, 'dependsOn')))).toContain('rbac');
  });

  function subscriptionLoopFor(sourceName: string): ResolvedResource {
    const filterVar = subscriptionsBicep.declarations.find(
      (d) => d.keyword === 'var' && squash(textOf(d.value)).endsWith(`sub.source=='${sourceName}')`),
    );
    expect(filterVar, `no filter var for source ${sourceName}`).toBeDefined();
    const loops = subscriptionsBicep.resources.filter(
      (r) =>
        r.loop &&
        r.type === 'Microsoft.EventGrid/systemTopics/eventSubscriptions' &&
        r.declaration.value?.kind === 'for' &&
        squash(r.declaration.value.header) === `subin${filterVar?.symbol}`,
    );
    expect(loops).toHaveLength(1);
    return loops[0] as ResolvedResource;
  }
});

describe('infra: role assignments', () => {
  // Built-in role definition ids (the same in every tenant).
  const builtIn = {
    storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b',
    storageBlobDataContributor: 'ba92f5b4-2d11-453d-a403-e96b0029c9fe',
    storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88',
    storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3',
    azureMLDataScientist: 'f6c7c914-8db3-469d-8ca1-694a8f32e121',
    monitoringReader: '43d0d8ad-25c7-4714-9337-8ba259a9fe05',
    logAnalyticsReader: '73c42c96-874c-492b-b04d-ab87d138a893',
    monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb',
    eventGridDataSender: 'd5a91429-5739-47e2-a06b-3470a27159e7',
    acrPull: '7f951dda-4ed3-4680-a7ca-43fe172d538d',
  };

  interface Assignment {
    symbol: string;
    principal: string;
    role: string;
    scopeType: string;
    /** The rbac.bicep param naming the scope resource (or its account for nested scopes). */
    scopeName: string;
  }

  function assignments(): Assignment[] {
    const rolesVar = declarationOf(rbac.declarations, 'var', 'roles')?.value;
    if (rolesVar?.kind !== 'object') throw new Error('rbac.bicep: var roles is not an object');
    const roleIds = new Map(
      [...rolesVar.entries].map(([k, v]) => [k, v.kind === 'expr' ? v.stringValue : '']),
    );
    return rbac.resources
      .filter((r) => r.type === 'Microsoft.Authorization/roleAssignments')
      .map((r) => {
        const scope = entryText(r.body, 'scope');
        const principal = entryText(r.body, 'properties.principalId');
        const roleKey = /roles\.(\w+)\)$/.exec(entryText(r.body, 'properties.roleDefinitionId'))?.[1] ?? '';
        // Deterministic names: guid(scope, principal, role), the same three parts the assignment uses.
        expect(entryText(r.body, 'name'), r.symbol).toBe(`guid(${scope}.id,${principal},roles.${roleKey})`);
        const scopePath = scope.split('::');
        const scopeResource = rbac.resources.find(
          (s) =>
            s.path.join('::') === scope ||
            (scopePath.length === 1 && s.symbol === scope && s.path.length === 1),
        );
        if (!scopeResource) throw new Error(`${r.symbol}: unknown scope ${scope}`);
        const root = rbac.resources.find((s) => s.symbol === scopePath[0] && s.path.length === 1);
        return {
          symbol: r.symbol,
          principal,
          role: roleIds.get(roleKey) ?? `unknown:${roleKey}`,
          scopeType: scopeResource.type,
          scopeName: entryText(root?.body, 'name'),
        };
      });
  }

  it('uses the built-in role ids', () => {
    const rolesVar = declarationOf(rbac.declarations, 'var', 'roles')?.value;
    if (rolesVar?.kind !== 'object') throw new Error('var roles missing');
    for (const [name, value] of rolesVar.entries) {
      expect(value.kind === 'expr' ? value.stringValue : undefined, name).toBe(
        builtIn[name as keyof typeof builtIn],
      );
    }
  });

  it('gives the app identity exactly the roles its adapters need, on the resources it uses', () => {
    const app = assignments()
      .filter((a) => a.principal === 'appPrincipalId')
      .map((a) => `${a.scopeName} ${a.scopeType} ${a.role}`)
      .sort();
    expect(app).toEqual(
      [
        `hostStorageName Microsoft.Storage/storageAccounts ${builtIn.storageBlobDataOwner}`,
        `hostStorageName Microsoft.Storage/storageAccounts ${builtIn.storageQueueDataContributor}`,
        `hostStorageName Microsoft.Storage/storageAccounts ${builtIn.storageTableDataContributor}`,
        `dataLakeName Microsoft.Storage/storageAccounts ${builtIn.storageBlobDataContributor}`,
        `workspaceName Microsoft.MachineLearningServices/workspaces ${builtIn.azureMLDataScientist}`,
        `workspaceName Microsoft.MachineLearningServices/workspaces ${builtIn.monitoringReader}`,
        `logAnalyticsName Microsoft.OperationalInsights/workspaces ${builtIn.logAnalyticsReader}`,
        `applicationInsightsName Microsoft.Insights/components ${builtIn.monitoringMetricsPublisher}`,
        `customTopicName Microsoft.EventGrid/topics ${builtIn.eventGridDataSender}`,
      ].sort(),
    );
  });

  it('grants them to the identity the Function App runs as, on the accounts its settings name', () => {
    const rbacParams = moduleParams(main, 'rbac');
    const appParams = moduleParams(main, 'functionApp');
    expect(squash(textOf(rbacParams.entries.get('appPrincipalId')))).toBe(
      'identities.outputs.appPrincipalId',
    );
    expect(squash(textOf(appParams.entries.get('appIdentityName')))).toBe(
      'identities.outputs.appIdentityName',
    );
    const identities = source('app/identities.bicep');
    const principalOut = squash(
      textOf(declarationOf(identities.declarations, 'output', 'appPrincipalId')?.value),
    );
    const nameOut = squash(
      textOf(declarationOf(identities.declarations, 'output', 'appIdentityName')?.value),
    );
    expect(principalOut.split('.')[0]).toBe(nameOut.split('.')[0]);
    // Same storage accounts, workspace and topic as the settings point at.
    for (const p of [
      'hostStorageName',
      'dataLakeName',
      'workspaceName',
      'logAnalyticsName',
      'applicationInsightsName',
    ]) {
      expect(squash(textOf(rbacParams.entries.get(p))), p).toBe(squash(textOf(appParams.entries.get(p))));
    }
    expect(existingNameParam(functionApp, 'hostStorage')).toBe('hostStorageName');
    expect(entryText(settingsObject(), 'AzureWebJobsStorage__accountName')).toBe('hostStorage.name');
    expect(entryText(settingsObject(), 'DATA_LAKE_ACCOUNT_URL')).toContain('${dataLake.name}');
    expect(existingNameParam(functionApp, 'dataLake')).toBe('dataLakeName');
  });

  it('limits the other identities: cluster to data and images, Event Grid to the dead-letter container', () => {
    const byPrincipal = (p: string) =>
      assignments()
        .filter((a) => a.principal === p)
        .map((a) => `${a.scopeName} ${a.scopeType} ${a.role}`)
        .sort();
    expect(byPrincipal('computePrincipalId')).toEqual(
      [
        `dataLakeName Microsoft.Storage/storageAccounts ${builtIn.storageBlobDataContributor}`,
        `workspaceStorageName Microsoft.Storage/storageAccounts ${builtIn.storageBlobDataContributor}`,
        `containerRegistryName Microsoft.ContainerRegistry/registries ${builtIn.acrPull}`,
      ].sort(),
    );
    expect(byPrincipal('eventGridPrincipalId')).toEqual([
      `dataLakeName Microsoft.Storage/storageAccounts/blobServices/containers ${builtIn.storageBlobDataContributor}`,
    ]);
    const principals = new Set(assignments().map((a) => a.principal));
    expect([...principals].sort()).toEqual(
      ['appPrincipalId', 'computePrincipalId', 'eventGridPrincipalId', 'userPrincipalId'].sort(),
    );
  });

  function settingsObject() {
    const configs = functionApp.resources.filter((r) => r.type === 'Microsoft.Web/sites/config');
    return valueAt(configs[0]?.body, 'properties');
  }
});

describe('infra: secure by default', () => {
  const created = all.flatMap((file) => file.resources.filter((r) => !r.existing).map((r) => ({ file, r })));

  it('disables shared keys and public blob access on every storage account', () => {
    const accounts = created.filter(({ r }) => r.type === 'Microsoft.Storage/storageAccounts');
    expect(accounts.length).toBe(3);
    for (const { file, r } of accounts) {
      const where = `${file.path} ${r.symbol}`;
      expect(entryText(r.body, 'properties.allowSharedKeyAccess'), where).toBe('false');
      expect(entryText(r.body, 'properties.allowBlobPublicAccess'), where).toBe('false');
      expect(stringAt(r.body, 'properties.minimumTlsVersion'), where).toBe('TLS1_2');
    }
    const lake = accounts.find(({ r }) => r.symbol === 'dataLake');
    expect(entryText(lake?.r.body, 'properties.isHnsEnabled')).toBe('true');
  });

  it('has a lifecycle policy moving raw data Hot -> Cool -> Archive', () => {
    const policy = onlyResource(
      source('app/storage.bicep'),
      'Microsoft.Storage/storageAccounts/managementPolicies',
    );
    const text = squash(textOf(policy.body));
    expect(text).toContain("prefixMatch:['${rawContainer}/${rawPrefix}']");
    expect(text).toContain('tierToCool');
    expect(text).toContain('tierToArchive');
  });

  it('disables admin users and local auth everywhere', () => {
    const expectations: [string, string, string][] = [
      ['Microsoft.ContainerRegistry/registries', 'properties.adminUserEnabled', 'false'],
      ['Microsoft.Insights/components', 'properties.DisableLocalAuth', 'true'],
      ['Microsoft.EventGrid/topics', 'properties.disableLocalAuth', 'true'],
      ['Microsoft.MachineLearningServices/workspaces/computes', 'properties.disableLocalAuth', 'true'],
      ['Microsoft.KeyVault/vaults', 'properties.enableRbacAuthorization', 'true'],
      ['Microsoft.MachineLearningServices/workspaces', 'properties.systemDatastoresAuthMode', "'identity'"],
    ];
    for (const [type, path, value] of expectations) {
      const matches = created.filter(({ r }) => r.type === type);
      expect(matches.length, type).toBeGreaterThan(0);
      for (const { r } of matches) expect(entryText(r.body, path), `${type} ${path}`).toBe(value);
    }
    for (const file of all) {
      expect(file.text, file.path).not.toMatch(
        /listKeys\s*\(|adminUserEnabled:\s*true|allowSharedKeyAccess:\s*true/,
      );
      expect(file.text, file.path).not.toMatch(/AccountKey=|SharedAccessKey=/);
    }
  });

  it('creates the online endpoint once, with key or Entra ID auth, so provisioning never resets traffic', () => {
    const aml = source('app/aml.bicep');
    const endpoint = aml.resources.find(
      (r) => r.type === 'Microsoft.MachineLearningServices/workspaces/onlineEndpoints' && !r.existing,
    );
    expect(squash(endpoint?.declaration.condition ?? '')).toBe('!onlineEndpointProvisioned');
    expect(entryText(endpoint?.body, 'properties.authMode')).toBe('endpointAuthMode');
    expect(entryText(endpoint?.body, 'properties.traffic')).toBe('');
    const authParam = declarationOf(main.declarations, 'param', 'endpointAuthMode');
    expect(authParam?.decorators.map(squash)).toContain("@allowed(['AADToken','Key'])");
    expect(
      squash(textOf(declarationOf(main.declarations, 'output', 'AML_ENDPOINT_PROVISIONED')?.value)),
    ).toBe('true');
    const compute = onlyResource(aml, 'Microsoft.MachineLearningServices/workspaces/computes');
    expect(entryText(compute.body, 'properties.properties.scaleSettings.minNodeCount')).toBe('0');
  });
});

describe('infra: tags and region', () => {
  it('defines the naming-standard tags once in main.bicep', () => {
    const tags = declarationOf(main.declarations, 'var', 'tags')?.value;
    if (tags?.kind !== 'object') throw new Error('var tags is not an object literal');
    for (const key of ['Project', 'Environment', 'Owner', 'CostCenter'])
      expect(tags.entries.has(key), key).toBe(true);
  });

  it('tags every tracked resource with the shared tags and its Component', () => {
    let tracked = 0;
    for (const file of all) {
      for (const r of file.resources.filter((x) => !x.existing && valueAt(x.body, 'location'))) {
        tracked++;
        const tags = entryText(r.body, 'tags');
        expect(tags, `${file.path} ${r.symbol}`).toMatch(/^union\(tags,\{Component:'[a-z-]+'/);
      }
    }
    expect(tracked).toBeGreaterThan(20);
  });

  it('passes the tags and the region parameter to every module that takes them', () => {
    for (const file of all.slice(1)) {
      const call = moduleCallFor(main, `./${file.path}`) as { symbol: string };
      const params = moduleParams(main, call.symbol);
      for (const name of ['tags', 'location']) {
        if (declarationOf(file.declarations, 'param', name)) {
          expect(squash(textOf(params.entries.get(name))), `${file.path} ${name}`).toBe(name);
        }
      }
      for (const r of file.resources.filter((x) => !x.existing && valueAt(x.body, 'location'))) {
        expect(entryText(r.body, 'location'), `${file.path} ${r.symbol}`).toMatch(
          /^(location|'global'|'Global')$/,
        );
      }
    }
    const location = declarationOf(main.declarations, 'param', 'location');
    expect(location?.value).toBeUndefined();
  });
});

describe('infra: alerts', () => {
  it('alerts on p95 latency > 600 ms over 5 minutes', () => {
    const alert = onlyResource(alerts, 'Microsoft.Insights/metricAlerts');
    const criterion = valueAt(alert.body, 'properties.criteria.allOf');
    const first = criterion?.kind === 'array' ? criterion.items[0] : undefined;
    expect(stringAt(first, 'metricName')).toBe('RequestLatency_P95');
    expect(stringAt(first, 'operator')).toBe('GreaterThan');
    expect(entryText(first, 'threshold')).toBe('p95LatencyThresholdMs');
    expect(squash(textOf(declarationOf(alerts.declarations, 'param', 'p95LatencyThresholdMs')?.value))).toBe(
      '600',
    );
    expect(stringAt(alert.body, 'properties.windowSize')).toBe('PT5M');
  });

  it('alerts on a 5xx rate > 1% over 5 minutes and on failed sagas, all to the action group', () => {
    const rules = alerts.resources.filter((r) => r.type === 'Microsoft.Insights/scheduledQueryRules');
    expect(rules).toHaveLength(2);
    for (const rule of rules) {
      expect(stringAt(rule.body, 'properties.windowSize')).toBe('PT5M');
      expect(entryText(rule.body, 'properties.actions.actionGroups')).toBe('[actionGroup.id]');
    }
    expect(squash(textOf(declarationOf(alerts.declarations, 'param', 'max5xxRate')?.value))).toBe("'0.01'");
    const query5xx = declarationOf(alerts.declarations, 'var', 'endpoint5xxQuery');
    expect(textOf(query5xx?.value)).toContain('ResponseCode startswith');
    const sagaQuery = declarationOf(alerts.declarations, 'var', 'sagaFailureQuery');
    const sagaText = sagaQuery?.value?.kind === 'expr' ? (sagaQuery.value.stringValue ?? '') : '';
    expect(sagaText).toContain('prop__state) == "Failed"');
    expect(sagaText).toContain('customEvents');
    const metric = onlyResource(alerts, 'Microsoft.Insights/metricAlerts');
    expect(squash(textOf(valueAt(metric.body, 'properties.actions')))).toContain(
      'actionGroupId:actionGroup.id',
    );
    onlyResource(alerts, 'Microsoft.Insights/actionGroups');
  });
});

describe('infra: azd template, CI/CD and docs', () => {
  const read = (path: string) => readFileSync(join(repoRoot, path), 'utf8');

  it('declares the Function App service in azure.yaml and ships its hooks', () => {
    const yaml = read('azure.yaml');
    expect(yaml).toMatch(
      /services:\s*\n\s+api:\s*\n\s+project: \.\s*\n\s+language: ts\s*\n\s+host: function/,
    );
    for (const hook of ['preprovision', 'postdeploy']) {
      expect(yaml).toContain(`./infra/hooks/${hook}.sh`);
      expect(yaml).toContain(`./infra/hooks/${hook}.ps1`);
      read(`infra/hooks/${hook}.sh`);
      read(`infra/hooks/${hook}.ps1`);
    }
    // azd finds the site by the azd-service-name tag of the service above.
    expect(entryText(onlyResource(functionApp, 'Microsoft.Web/sites').body, 'tags')).toContain(
      "'azd-service-name':'api'",
    );
    const parameters = JSON.parse(read('infra/main.parameters.json')) as {
      parameters: Record<string, unknown>;
    };
    for (const name of Object.keys(parameters.parameters)) {
      expect(declarationOf(main.declarations, 'param', name), name).toBeDefined();
    }
  });

  it('keeps tests and infra out of the deployment package but not the sources the build needs', () => {
    const ignored = read('.funcignore')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    for (const entry of ['test/', 'infra/*', 'bench/', 'local.settings.json', '**/*.test.ts']) {
      expect(ignored).toContain(entry);
    }
    expect(ignored).toContain('!infra/eventSubscriptions.json');
    for (const kept of [
      'functions',
      'functions/',
      'package.json',
      'host.json',
      'tsconfig.json',
      'aml/',
      'training/',
    ]) {
      expect(ignored).not.toContain(kept);
    }
  });

  it('runs the .ci/run checks on every push on Node 22 (Azure) and 20 (oldest supported locally)', () => {
    const ci = read('.github/workflows/ci.yml');
    expect(ci).toMatch(/on:\s*\n\s+push:/);
    expect(ci).toContain("node: ['20', '22']");
    expect(ci).toContain('node-version: ${{ matrix.node }}');
    for (const step of ['npm ci', 'npm run lint', 'npm run typecheck', 'npm test'])
      expect(ci).toContain(`run: ${step}`);
  });

  it('deploys with azd over OIDC: dev on main, prod behind the prod environment', () => {
    const deploy = read('.github/workflows/deploy.yml');
    expect(deploy).toMatch(/push:\s*\n\s+branches: \[main\]/);
    expect(deploy).toMatch(/prod:\s*\n\s+needs: dev/);
    expect(deploy).toContain('environment: prod');
    const job = read('.github/workflows/azd-deploy.yml');
    expect(job).toContain('id-token: write');
    expect(job).toContain('name: ${{ inputs.environment }}');
    expect(job).toContain('uses: azure/login@v2');
    for (const v of ['client-id: ${{ vars.AZURE_CLIENT_ID }}', 'tenant-id: ${{ vars.AZURE_TENANT_ID }}']) {
      expect(job).toContain(v);
    }
    expect(job).toContain('subscription-id: ${{ vars.AZURE_SUBSCRIPTION_ID }}');
    expect(job).toContain('azd provision --no-prompt');
    expect(job).toContain('azd deploy --no-prompt');
    expect(`${deploy}\n${job}`).not.toMatch(/\$\{\{\s*secrets\./);
  });

  it('documents every deployment step and prerequisite in the README', () => {
    const readme = read('README.md');
    const start = readme.indexOf('## Deploy to Azure');
    expect(start).toBeGreaterThanOrEqual(0);
    const section = readme.slice(start);
    for (const step of [
      'azd auth login',
      'azd env new',
      'azd up',
      'azd pipeline config',
      'federated',
      'environment:prod',
      'Required reviewers',
      'azd down --purge',
      'Node.js 20',
      'Azure Developer CLI',
      'User Access Administrator',
    ]) {
      expect(section, step).toContain(step);
    }
  });
});
