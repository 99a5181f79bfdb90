// Two accounts, both without shared keys:
// - host: AzureWebJobsStorage (Functions host, durable task hub queues/tables/blobs) and the Flex deployment package;
// - lake: ADLS Gen2 data lake (raw clickstream, ETL outputs, models, run records, Event Grid dead letters),
//   with a lifecycle policy moving raw data Hot -> Cool -> Archive.
// They are separate so the task hub never shares an account (or a role) with the data.
param location string
param tags object
param hostStorageName string
param dataLakeName string
@description('Blob container holding the Flex Consumption deployment package.')
param deploymentContainer string
@description('Containers created in the data lake.')
param dataContainers array
param rawContainer string
param rawPrefix string
@allowed(['Standard_LRS', 'Standard_ZRS', 'Standard_GRS'])
param skuName string = 'Standard_LRS'
@description('Days after the last write before raw files move to Cool, then to Archive.')
param rawCoolAfterDays int = 30
param rawArchiveAfterDays int = 180

resource hostStorage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: hostStorageName
  location: location
  tags: union(tags, { Component: 'functions' })
  kind: 'StorageV2'
  sku: {
    name: skuName
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

  resource blobServices 'blobServices' = {
    name: 'default'

    resource packageContainer 'containers' = {
      name: deploymentContainer
      properties: {
        publicAccess: 'None'
      }
    }
  }
}

resource dataLake 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: dataLakeName
  location: location
  tags: union(tags, { Component: 'data' })
  kind: 'StorageV2'
  sku: {
    name: skuName
  }
  properties: {
    accessTier: 'Hot'
    isHnsEnabled: true
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

  resource blobServices 'blobServices' = {
    name: 'default'
    properties: {
      deleteRetentionPolicy: {
        enabled: true
        days: 7
      }
      containerDeleteRetentionPolicy: {
        enabled: true
        days: 7
      }
    }

    resource containers 'containers' = [
      for container in dataContainers: {
        name: container
        properties: {
          publicAccess: 'None'
        }
      }
    ]
  }

  resource lifecycle 'managementPolicies' = {
    name: 'default'
    properties: {
      policy: {
        rules: [
          {
            name: 'raw-hot-cool-archive'
            enabled: true
            type: 'Lifecycle'
            definition: {
              filters: {
                blobTypes: ['blockBlob']
                prefixMatch: ['${rawContainer}/${rawPrefix}']
              }
              actions: {
                baseBlob: {
                  tierToCool: {
                    daysAfterModificationGreaterThan: rawCoolAfterDays
                  }
                  tierToArchive: {
                    daysAfterModificationGreaterThan: rawArchiveAfterDays
                  }
                }
              }
            }
          }
        ]
      }
    }
  }
}

output hostStorageName string = hostStorage.name
output deploymentContainer string = deploymentContainer
output dataLakeName string = dataLake.name
output dataLakeBlobUrl string = 'https://${dataLake.name}.blob.${environment().suffixes.storage}'
