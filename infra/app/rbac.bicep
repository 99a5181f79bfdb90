// Role assignments, least privilege. Names are guid(scope, principal, role) so re-provisioning is idempotent.
// The app identity gets exactly:
//   host storage (AzureWebJobsStorage, task hub): Blob Data Owner, Queue Data Contributor, Table Data Contributor
//   data lake (raw/curated/models/runs, blob leases): Blob Data Contributor
//   ML workspace: AzureML Data Scientist (jobs, models, endpoints, deployments) and Monitoring Reader
//     (endpoint metrics for canary analysis)
//   Log Analytics: Log Analytics Reader (canary queries); App Insights: Monitoring Metrics Publisher
//     (telemetry with local auth off); custom topic: EventGrid Data Sender.
// The workspace and endpoint system identities get their roles from Azure ML itself at creation; assigning
// the same roles here would collide with those assignments.
param appPrincipalId string
param computePrincipalId string
param eventGridPrincipalId string
@description('Person or pipeline running azd; empty to skip.')
param userPrincipalId string
param userPrincipalType string
param hostStorageName string
param dataLakeName string
param deadLetterContainer string
param workspaceStorageName string
param workspaceName string
param containerRegistryName string
param logAnalyticsName string
param applicationInsightsName string
param customTopicName string

// Built-in role definition ids (identical in every tenant).
var roles = {
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  storageBlobDataContributor: 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
  azureMLDataScientist: 'f6c7c914-8db3-469d-8ca1-694a8f32e121'
  monitoringReader: '43d0d8ad-25c7-4714-9337-8ba259a9fe05'
  logAnalyticsReader: '73c42c96-874c-492b-b04d-ab87d138a893'
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb'
  eventGridDataSender: 'd5a91429-5739-47e2-a06b-3470a27159e7'
  acrPull: '7f951dda-4ed3-4680-a7ca-43fe172d538d'
}

resource hostStorage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: hostStorageName
}

resource dataLake 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: dataLakeName

  resource blobServices 'blobServices' existing = {
    name: 'default'

    resource deadLetter 'containers' existing = {
      name: deadLetterContainer
    }
  }
}

resource workspaceStorage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: workspaceStorageName
}

resource workspace 'Microsoft.MachineLearningServices/workspaces@2024-04-01' existing = {
  name: workspaceName
}

resource containerRegistry 'Microsoft.ContainerRegistry/registries@2023-07-01' existing = {
  name: containerRegistryName
}

resource logAnalytics 'Microsoft.OperationalInsights/workspaces@2023-09-01' existing = {
  name: logAnalyticsName
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource customTopic 'Microsoft.EventGrid/topics@2022-06-15' existing = {
  name: customTopicName
}

// ---- Function App identity ----

resource appHostBlobOwner 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(hostStorage.id, appPrincipalId, roles.storageBlobDataOwner)
  scope: hostStorage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataOwner)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource appHostQueueContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(hostStorage.id, appPrincipalId, roles.storageQueueDataContributor)
  scope: hostStorage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageQueueDataContributor)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource appHostTableContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(hostStorage.id, appPrincipalId, roles.storageTableDataContributor)
  scope: hostStorage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageTableDataContributor)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource appLakeBlobContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(dataLake.id, appPrincipalId, roles.storageBlobDataContributor)
  scope: dataLake
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataContributor)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource appWorkspaceDataScientist 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(workspace.id, appPrincipalId, roles.azureMLDataScientist)
  scope: workspace
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.azureMLDataScientist)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource appWorkspaceMonitoringReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(workspace.id, appPrincipalId, roles.monitoringReader)
  scope: workspace
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.monitoringReader)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource appLogAnalyticsReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(logAnalytics.id, appPrincipalId, roles.logAnalyticsReader)
  scope: logAnalytics
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.logAnalyticsReader)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource appTelemetryPublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(applicationInsights.id, appPrincipalId, roles.monitoringMetricsPublisher)
  scope: applicationInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.monitoringMetricsPublisher)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource appTopicSender 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(customTopic.id, appPrincipalId, roles.eventGridDataSender)
  scope: customTopic
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.eventGridDataSender)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// ---- Training cluster identity: jobs read raw data and write outputs; environments come from ACR ----

resource computeLakeBlobContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(dataLake.id, computePrincipalId, roles.storageBlobDataContributor)
  scope: dataLake
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataContributor)
    principalId: computePrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource computeWorkspaceStorageBlobContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(workspaceStorage.id, computePrincipalId, roles.storageBlobDataContributor)
  scope: workspaceStorage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataContributor)
    principalId: computePrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource computeAcrPull 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(containerRegistry.id, computePrincipalId, roles.acrPull)
  scope: containerRegistry
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.acrPull)
    principalId: computePrincipalId
    principalType: 'ServicePrincipal'
  }
}

// ---- Event Grid identity: writes dead letters into one container only ----

resource eventGridDeadLetterWriter 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(dataLake::blobServices::deadLetter.id, eventGridPrincipalId, roles.storageBlobDataContributor)
  scope: dataLake::blobServices::deadLetter
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataContributor)
    principalId: eventGridPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// ---- The person or pipeline running azd: may upload raw files to the lake (optional) ----

resource userLakeBlobContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(userPrincipalId)) {
  name: guid(dataLake.id, userPrincipalId, roles.storageBlobDataContributor)
  scope: dataLake
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataContributor)
    principalId: userPrincipalId
    principalType: userPrincipalType
  }
}
