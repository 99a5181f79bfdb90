// The Function App on Flex Consumption (Linux, Node), running as the app's user-assigned identity.
// Every app setting marked azure: 'required' in functions/settings.ts is set in `appSettings` below
// (test/infra checks it); no setting carries a key or a connection string with a secret.
param location string
param tags object
param planName string
param functionAppName string
param nodeVersion string
param appIdentityName string
param hostStorageName string
param deploymentContainer string
param dataLakeName string
param applicationInsightsName string
param logAnalyticsName string
param workspaceName string
param computeName string
param endpointName string
param customTopicEndpoint string
param environmentType string
param taskHubName string
param rawContainer string
param rawPrefix string
param curatedContainer string
param modelsContainer string
param runsContainer string
param modelName string
param forecastKeyType string
param forecastHorizon string
param retrainSchedule string
@description('Assets infra/hooks/postdeploy registered (empty before the first deploy).')
param amlCodeId string = ''
param amlJobEnvironmentId string = ''
param amlInferenceEnvironmentId string = ''
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int = 100
@allowed([512, 2048, 4096])
param instanceMemoryMB int = 2048

resource appIdentity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' existing = {
  name: appIdentityName
}

resource hostStorage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: hostStorageName
}

resource dataLake 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: dataLakeName
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource logAnalytics 'Microsoft.OperationalInsights/workspaces@2023-09-01' existing = {
  name: logAnalyticsName
}

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: union(tags, { Component: 'functions' })
  kind: 'functionapp'
  sku: {
    tier: 'FlexConsumption'
    name: 'FC1'
  }
  properties: {
    reserved: true
  }
}

resource functionApp 'Microsoft.Web/sites@2024-04-01' = {
  name: functionAppName
  location: location
  // azd finds the deploy target of service `api` (azure.yaml) by this tag.
  tags: union(tags, { Component: 'functions', 'azd-service-name': 'api' })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${appIdentity.id}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    siteConfig: {
      minTlsVersion: '1.2'
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${hostStorage.properties.primaryEndpoints.blob}${deploymentContainer}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: appIdentity.id
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
      }
      runtime: {
        name: 'node'
        version: nodeVersion
      }
    }
  }

  // Flex Consumption sets FUNCTIONS_WORKER_RUNTIME and the Node version from functionAppConfig; they must
  // not appear here.
  resource appSettings 'config' = {
    name: 'appsettings'
    properties: {
      AzureWebJobsStorage__accountName: hostStorage.name
      AzureWebJobsStorage__credential: 'managedidentity'
      AzureWebJobsStorage__clientId: appIdentity.properties.clientId
      TASKHUB_NAME: taskHubName
      MLOPS_PLATFORM: 'azure'
      AZURE_CLIENT_ID: appIdentity.properties.clientId
      AZURE_SUBSCRIPTION_ID: subscription().subscriptionId
      AZURE_RESOURCE_GROUP: resourceGroup().name
      AML_WORKSPACE_NAME: workspaceName
      AML_LOCATION: location
      AML_COMPUTE_NAME: computeName
      AML_ENDPOINT_NAME: endpointName
      AML_CODE_ID: amlCodeId
      AML_JOB_ENVIRONMENT_ID: amlJobEnvironmentId
      AML_INFERENCE_ENVIRONMENT_ID: amlInferenceEnvironmentId
      DATA_LAKE_ACCOUNT_URL: 'https://${dataLake.name}.blob.${environment().suffixes.storage}'
      RAW_CONTAINER: rawContainer
      RAW_PREFIX: rawPrefix
      CURATED_CONTAINER: curatedContainer
      MODELS_CONTAINER: modelsContainer
      RUNS_CONTAINER: runsContainer
      MODEL_NAME: modelName
      FORECAST_KEY_TYPE: forecastKeyType
      FORECAST_HORIZON: forecastHorizon
      RETRAIN_SCHEDULE: retrainSchedule
      APPLICATIONINSIGHTS_CONNECTION_STRING: applicationInsights.properties.ConnectionString
      // App Insights has local auth disabled: telemetry is sent with the app identity.
      APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${appIdentity.properties.clientId};Authorization=AAD'
      LOG_ANALYTICS_WORKSPACE_ID: logAnalytics.properties.customerId
      EVENTGRID_TOPIC_ENDPOINT: customTopicEndpoint
      APPROVAL_REQUIRED: environmentType == 'prod' ? 'true' : 'false'
    }
  }
}

// Deployments authenticate with Entra ID; basic (publishing-profile) credentials stay off.
resource scmBasicAuth 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: functionApp
  name: 'scm'
  properties: {
    allow: false
  }
}

resource ftpBasicAuth 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: functionApp
  name: 'ftp'
  properties: {
    allow: false
  }
}

output functionAppName string = functionApp.name
output functionAppUri string = 'https://${functionApp.properties.defaultHostName}'
