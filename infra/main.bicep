// Entry point of the azd template: one resource group with everything the MLOps app needs.
// Resources are declared directly (not through AVM registry modules) so that every security-relevant
// property (shared keys, admin users, local auth) is visible in this repo and checked by test/infra.
targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('Name of the azd environment; seeds the resource token and the resource group name.')
param environmentName string

@minLength(1)
@description('Region for every resource (Flex Consumption, Azure ML and Event Grid must all be offered there).')
@metadata({
  azd: {
    type: 'location'
  }
})
param location string

@allowed(['dev', 'test', 'prod'])
@description('Deployment stage; goes into the Environment tag and tightens a few defaults for prod.')
param environmentType string = 'dev'

@description('Project tag and short name used in resource names.')
param projectName string = 'demandfc'

@description('Owner tag: the team or person accountable for these resources.')
param owner string = 'mlops-team'

@description('CostCenter tag used for charge-back.')
param costCenter string = 'retail-forecasting'

@description('E-mail address that receives alerts; empty means the action group has no receivers yet.')
param alertEmail string = ''

@description('Object id of the person or pipeline running azd; gets data access to upload raw files. Empty to skip.')
param principalId string = ''

@allowed(['User', 'ServicePrincipal'])
@description('Kind of principalId: a person locally, a service principal in CI.')
param principalType string = 'User'

@description('Create the Event Grid subscriptions. They point at functions, which exist only after the first deploy, so the postdeploy hook turns this on.')
param eventSubscriptionsEnabled bool = false

@description('True once the online endpoint exists: re-creating it would reset its traffic split, which the release saga owns.')
param onlineEndpointProvisioned bool = false

@allowed(['AADToken', 'Key'])
@description('Auth mode of the managed online endpoint.')
param endpointAuthMode string = 'AADToken'

@description('Code asset (the repository) the ETL and training jobs run; registered by infra/hooks/postdeploy.')
param amlCodeId string = ''

@description('Environment the ETL and training jobs run in (inference/train.Dockerfile); registered by infra/hooks/postdeploy.')
param amlJobEnvironmentId string = ''

@description('Environment of the blue/green deployments (inference/infer.Dockerfile); registered by infra/hooks/postdeploy.')
param amlInferenceEnvironmentId string = ''

@description('VM size of the CPU training cluster.')
param computeVmSize string = 'Standard_DS3_v2'

@minValue(1)
@description('Upper bound of training nodes; the cluster scales to zero when idle.')
param computeMaxNodes int = 2

// Node 20 reached end of life on 2026-04-30; 20 stays allowed only for apps not yet moved.
@allowed(['20', '22'])
@description('Node.js version of the Function App runtime.')
param nodeVersion string = '22'

// App configuration that both the Function App settings and the Event Grid filter need.
param taskHubName string = 'mlops'
param rawContainer string = 'raw'
param rawPrefix string = 'clickstream/'
param curatedContainer string = 'curated'
param modelsContainer string = 'models'
param runsContainer string = 'runs'
param modelName string = 'demand-forecast'
param forecastKeyType string = 'category_code'
param forecastHorizon string = '7'
param retrainSchedule string = '0 0 2 * * 1'
param computeName string = 'cpu-cluster'

var abbrs = loadJsonContent('./abbreviations.json')
var eventGrid = loadJsonContent('./eventSubscriptions.json')
var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var deadLetterContainer = eventGrid.delivery.deadLetterContainer

// Naming standard tags; each module adds its own Component tag. azd-env-name lets azd find the resources.
var tags = {
  Project: projectName
  Environment: environmentType
  Owner: owner
  CostCenter: costCenter
  'azd-env-name': environmentName
}

resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: '${abbrs.resourcesResourceGroups}${environmentName}'
  location: location
  tags: union(tags, { Component: 'resource-group' })
}

module identities './app/identities.bicep' = {
  name: 'identities'
  scope: rg
  params: {
    location: location
    tags: tags
    appIdentityName: '${abbrs.managedIdentityUserAssignedIdentities}app-${resourceToken}'
    computeIdentityName: '${abbrs.managedIdentityUserAssignedIdentities}aml-compute-${resourceToken}'
    eventGridIdentityName: '${abbrs.managedIdentityUserAssignedIdentities}eventgrid-${resourceToken}'
  }
}

module monitoring './app/monitoring.bicep' = {
  name: 'monitoring'
  scope: rg
  params: {
    location: location
    tags: tags
    logAnalyticsName: '${abbrs.operationalInsightsWorkspaces}${resourceToken}'
    applicationInsightsName: '${abbrs.insightsComponents}${resourceToken}'
  }
}

module storage './app/storage.bicep' = {
  name: 'storage'
  scope: rg
  params: {
    location: location
    tags: tags
    hostStorageName: '${abbrs.storageStorageAccounts}host${resourceToken}'
    dataLakeName: '${abbrs.storageStorageAccounts}lake${resourceToken}'
    deploymentContainer: 'app-package-${resourceToken}'
    dataContainers: [rawContainer, curatedContainer, modelsContainer, runsContainer, deadLetterContainer]
    rawContainer: rawContainer
    rawPrefix: rawPrefix
  }
}

module aml './app/aml.bicep' = {
  name: 'aml'
  scope: rg
  params: {
    location: location
    tags: tags
    workspaceName: '${abbrs.machineLearningServicesWorkspaces}${resourceToken}'
    keyVaultName: '${abbrs.keyVaultVaults}${resourceToken}'
    containerRegistryName: '${abbrs.containerRegistryRegistries}${resourceToken}'
    workspaceStorageName: '${abbrs.storageStorageAccounts}ml${resourceToken}'
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    logAnalyticsName: monitoring.outputs.logAnalyticsName
    computeName: computeName
    computeVmSize: computeVmSize
    computeMaxNodes: computeMaxNodes
    computeIdentityName: identities.outputs.computeIdentityName
    endpointName: '${abbrs.machineLearningServicesOnlineEndpoints}${resourceToken}'
    endpointAuthMode: endpointAuthMode
    onlineEndpointProvisioned: onlineEndpointProvisioned
    dataLakeName: storage.outputs.dataLakeName
    dataContainers: [rawContainer, curatedContainer, modelsContainer, runsContainer]
  }
}

module eventGridTopics './app/eventgrid.bicep' = {
  name: 'eventgrid-topics'
  scope: rg
  params: {
    location: location
    tags: tags
    customTopicName: '${abbrs.eventGridDomainsTopics}${resourceToken}'
    storageSystemTopicName: '${abbrs.eventGridSystemTopics}lake-${resourceToken}'
    workspaceSystemTopicName: '${abbrs.eventGridSystemTopics}mlw-${resourceToken}'
    dataLakeName: storage.outputs.dataLakeName
    workspaceName: aml.outputs.workspaceName
    eventGridIdentityName: identities.outputs.eventGridIdentityName
  }
}

module functionApp './app/functionapp.bicep' = {
  name: 'functionapp'
  scope: rg
  params: {
    location: location
    tags: tags
    planName: '${abbrs.webServerFarms}${resourceToken}'
    functionAppName: '${abbrs.webSitesFunctions}${projectName}-${resourceToken}'
    nodeVersion: nodeVersion
    appIdentityName: identities.outputs.appIdentityName
    hostStorageName: storage.outputs.hostStorageName
    deploymentContainer: storage.outputs.deploymentContainer
    dataLakeName: storage.outputs.dataLakeName
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    logAnalyticsName: monitoring.outputs.logAnalyticsName
    workspaceName: aml.outputs.workspaceName
    computeName: aml.outputs.computeName
    endpointName: aml.outputs.endpointName
    customTopicEndpoint: eventGridTopics.outputs.customTopicEndpoint
    environmentType: environmentType
    taskHubName: taskHubName
    rawContainer: rawContainer
    rawPrefix: rawPrefix
    curatedContainer: curatedContainer
    modelsContainer: modelsContainer
    runsContainer: runsContainer
    modelName: modelName
    forecastKeyType: forecastKeyType
    forecastHorizon: forecastHorizon
    retrainSchedule: retrainSchedule
    amlCodeId: amlCodeId
    amlJobEnvironmentId: amlJobEnvironmentId
    amlInferenceEnvironmentId: amlInferenceEnvironmentId
  }
}

module rbac './app/rbac.bicep' = {
  name: 'rbac'
  scope: rg
  params: {
    appPrincipalId: identities.outputs.appPrincipalId
    computePrincipalId: identities.outputs.computePrincipalId
    eventGridPrincipalId: identities.outputs.eventGridPrincipalId
    userPrincipalId: principalId
    userPrincipalType: principalType
    hostStorageName: storage.outputs.hostStorageName
    dataLakeName: storage.outputs.dataLakeName
    deadLetterContainer: deadLetterContainer
    workspaceStorageName: aml.outputs.workspaceStorageName
    workspaceName: aml.outputs.workspaceName
    containerRegistryName: aml.outputs.containerRegistryName
    logAnalyticsName: monitoring.outputs.logAnalyticsName
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    customTopicName: eventGridTopics.outputs.customTopicName
  }
}

module eventSubscriptions './app/eventSubscriptions.bicep' = if (eventSubscriptionsEnabled) {
  name: 'eventgrid-subscriptions'
  scope: rg
  // The dead-letter identity must hold its role before Event Grid first writes a dead letter.
  dependsOn: [rbac]
  params: {
    functionAppName: functionApp.outputs.functionAppName
    storageSystemTopicName: eventGridTopics.outputs.storageSystemTopicName
    workspaceSystemTopicName: eventGridTopics.outputs.workspaceSystemTopicName
    dataLakeName: storage.outputs.dataLakeName
    eventGridIdentityName: identities.outputs.eventGridIdentityName
    rawContainer: rawContainer
    rawPrefix: rawPrefix
  }
}

module alerts './app/alerts.bicep' = {
  name: 'alerts'
  scope: rg
  params: {
    tags: tags
    actionGroupName: '${abbrs.insightsActionGroups}${resourceToken}'
    alertEmail: alertEmail
    workspaceName: aml.outputs.workspaceName
    endpointName: aml.outputs.endpointName
    logAnalyticsName: monitoring.outputs.logAnalyticsName
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    location: location
  }
}

// UPPER_SNAKE outputs become azd environment values (azd env get-values).
output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_SUBSCRIPTION_ID string = subscription().subscriptionId
output AZURE_RESOURCE_GROUP string = rg.name
output SERVICE_API_NAME string = functionApp.outputs.functionAppName
output SERVICE_API_URI string = functionApp.outputs.functionAppUri
output AZURE_FUNCTION_APP_NAME string = functionApp.outputs.functionAppName
output AZURE_CLIENT_ID string = identities.outputs.appClientId
output AML_WORKSPACE_NAME string = aml.outputs.workspaceName
output AML_COMPUTE_NAME string = aml.outputs.computeName
output AML_ENDPOINT_NAME string = aml.outputs.endpointName
output AML_CONTAINER_REGISTRY string = aml.outputs.containerRegistryLoginServer
output DATA_LAKE_ACCOUNT_NAME string = storage.outputs.dataLakeName
output DATA_LAKE_ACCOUNT_URL string = storage.outputs.dataLakeBlobUrl
output RAW_CONTAINER string = rawContainer
output RAW_PREFIX string = rawPrefix
output TASKHUB_NAME string = taskHubName
output LOG_ANALYTICS_WORKSPACE_ID string = monitoring.outputs.logAnalyticsCustomerId
output EVENTGRID_TOPIC_ENDPOINT string = eventGridTopics.outputs.customTopicEndpoint
// After the first successful provision the endpoint exists; azd stores this output and main.parameters.json
// feeds it back, so later provisions never PUT the endpoint (and never reset its traffic) again.
output AML_ENDPOINT_PROVISIONED bool = true
