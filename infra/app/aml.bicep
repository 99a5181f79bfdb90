// Azure ML: workspace with its Key Vault, container registry and (identity-only) storage, the CPU training
// cluster that scales to zero, the managed online endpoint, and data lake datastores for the jobs.
// Deployments behind the endpoint are not declared here: the release saga creates them (blue/green).
param location string
param tags object
param workspaceName string
param keyVaultName string
param containerRegistryName string
param workspaceStorageName string
param applicationInsightsName string
param logAnalyticsName string
param computeName string
param computeVmSize string
param computeMaxNodes int
param computeIdentityName string
param endpointName string
@allowed(['AADToken', 'Key'])
param endpointAuthMode string
@description('When true the endpoint already exists and is only referenced, so its traffic split is left alone.')
param onlineEndpointProvisioned bool
param dataLakeName string
@description('Data lake containers exposed to jobs as datastores named lake_<container>.')
param dataContainers array

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource logAnalytics 'Microsoft.OperationalInsights/workspaces@2023-09-01' existing = {
  name: logAnalyticsName
}

resource computeIdentity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' existing = {
  name: computeIdentityName
}

resource dataLake 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: dataLakeName
}

resource keyVault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: keyVaultName
  location: location
  tags: union(tags, { Component: 'ml' })
  properties: {
    tenantId: tenant().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 7
    // Purge protection stays off so that `azd down --purge` can remove the vault completely.
    publicNetworkAccess: 'Enabled'
  }
}

resource containerRegistry 'Microsoft.ContainerRegistry/registries@2023-07-01' = {
  name: containerRegistryName
  location: location
  tags: union(tags, { Component: 'ml' })
  sku: {
    name: 'Basic'
  }
  properties: {
    adminUserEnabled: false
    publicNetworkAccess: 'Enabled'
  }
}

// The workspace's own storage (artifacts, job outputs, registered model files). Azure ML does not accept a
// hierarchical-namespace account here, so it is separate from the data lake.
resource workspaceStorage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: workspaceStorageName
  location: location
  tags: union(tags, { Component: 'ml' })
  kind: 'StorageV2'
  sku: {
    name: 'Standard_LRS'
  }
  properties: {
    accessTier: 'Hot'
    isHnsEnabled: false
    allowSharedKeyAccess: false
    allowBlobPublicAccess: false
    allowCrossTenantReplication: false
    defaultToOAuthAuthentication: true
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      bypass: 'AzureServices'
      defaultAction: 'Allow'
    }
  }
}

resource workspace 'Microsoft.MachineLearningServices/workspaces@2024-04-01' = {
  name: workspaceName
  location: location
  tags: union(tags, { Component: 'ml' })
  kind: 'Default'
  sku: {
    name: 'Basic'
    tier: 'Basic'
  }
  identity: {
    type: 'SystemAssigned'
  }
  properties: {
    friendlyName: workspaceName
    storageAccount: workspaceStorage.id
    keyVault: keyVault.id
    applicationInsights: applicationInsights.id
    containerRegistry: containerRegistry.id
    // The workspace storage has shared keys disabled, so system datastores must use Entra ID.
    systemDatastoresAuthMode: 'identity'
    publicNetworkAccess: 'Enabled'
    v1LegacyMode: false
    hbiWorkspace: false
  }
}

resource compute 'Microsoft.MachineLearningServices/workspaces/computes@2024-04-01' = {
  parent: workspace
  name: computeName
  location: location
  tags: union(tags, { Component: 'ml' })
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${computeIdentity.id}': {}
    }
  }
  properties: {
    computeType: 'AmlCompute'
    disableLocalAuth: true
    description: 'CPU cluster for the ETL and training jobs; scales to zero when idle.'
    properties: {
      vmSize: computeVmSize
      vmPriority: 'Dedicated'
      osType: 'Linux'
      remoteLoginPortPublicAccess: 'Disabled'
      scaleSettings: {
        minNodeCount: 0
        maxNodeCount: computeMaxNodes
        nodeIdleTimeBeforeScaleDown: 'PT120S'
      }
    }
  }
}

// A PUT without `traffic` sets every deployment's traffic to 0, so the endpoint is created once and only
// referenced afterwards (see onlineEndpointProvisioned in main.bicep).
resource onlineEndpointCreate 'Microsoft.MachineLearningServices/workspaces/onlineEndpoints@2024-04-01' = if (!onlineEndpointProvisioned) {
  parent: workspace
  name: endpointName
  location: location
  tags: union(tags, { Component: 'inference' })
  identity: {
    type: 'SystemAssigned'
  }
  properties: {
    authMode: endpointAuthMode
    publicNetworkAccess: 'Enabled'
    description: 'Demand-forecast scoring; blue/green deployments and traffic are managed by the release saga.'
  }
}

resource onlineEndpoint 'Microsoft.MachineLearningServices/workspaces/onlineEndpoints@2024-04-01' existing = {
  parent: workspace
  name: endpointName
}

// Request logs of the endpoint go to Log Analytics: the 5xx-rate alert and the canary analysis query them.
resource endpointDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'endpoint-to-log-analytics'
  scope: onlineEndpoint
  dependsOn: [onlineEndpointCreate]
  properties: {
    workspaceId: logAnalytics.id
    logs: [
      {
        category: 'AmlOnlineEndpointTrafficLog'
        enabled: true
      }
      {
        category: 'AmlOnlineEndpointConsoleLog'
        enabled: true
      }
    ]
    metrics: [
      {
        category: 'AllMetrics'
        enabled: true
      }
    ]
  }
}

// Identity-based datastores over the data lake: jobs read and write them with the cluster's identity.
resource lakeDatastores 'Microsoft.MachineLearningServices/workspaces/datastores@2024-04-01' = [
  for container in dataContainers: {
    parent: workspace
    name: 'lake_${container}'
    properties: {
      datastoreType: 'AzureDataLakeGen2'
      accountName: dataLake.name
      filesystem: container
      endpoint: environment().suffixes.storage
      protocol: 'https'
      serviceDataAccessAuthIdentity: 'None'
      credentials: {
        credentialsType: 'None'
      }
      description: 'Data lake container ${container} (identity-based access).'
    }
  }
]

output workspaceName string = workspace.name
output workspaceStorageName string = workspaceStorage.name
output containerRegistryName string = containerRegistry.name
output containerRegistryLoginServer string = containerRegistry.properties.loginServer
output computeName string = compute.name
output endpointName string = onlineEndpoint.name
