// Event Grid topics: system topics on the data lake and on the ML workspace (their subscriptions are in
// eventSubscriptions.bicep), and a custom topic the app publishes its own run decisions to.
// Both system topics carry the Event Grid identity, which writes dead letters without storage keys.
param location string
param tags object
param customTopicName string
param storageSystemTopicName string
param workspaceSystemTopicName string
param dataLakeName string
param workspaceName string
param eventGridIdentityName string

resource dataLake 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: dataLakeName
}

resource workspace 'Microsoft.MachineLearningServices/workspaces@2024-04-01' existing = {
  name: workspaceName
}

resource eventGridIdentity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' existing = {
  name: eventGridIdentityName
}

resource customTopic 'Microsoft.EventGrid/topics@2022-06-15' = {
  name: customTopicName
  location: location
  tags: union(tags, { Component: 'events' })
  properties: {
    inputSchema: 'EventGridSchema'
    publicNetworkAccess: 'Enabled'
    // Publishers authenticate with Entra ID (EventGrid Data Sender), never with topic keys.
    disableLocalAuth: true
  }
}

resource storageSystemTopic 'Microsoft.EventGrid/systemTopics@2022-06-15' = {
  name: storageSystemTopicName
  location: location
  tags: union(tags, { Component: 'events' })
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${eventGridIdentity.id}': {}
    }
  }
  properties: {
    source: dataLake.id
    topicType: 'Microsoft.Storage.StorageAccounts'
  }
}

resource workspaceSystemTopic 'Microsoft.EventGrid/systemTopics@2022-06-15' = {
  name: workspaceSystemTopicName
  location: location
  tags: union(tags, { Component: 'events' })
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${eventGridIdentity.id}': {}
    }
  }
  properties: {
    source: workspace.id
    topicType: 'Microsoft.MachineLearningServices.Workspaces'
  }
}

output customTopicName string = customTopic.name
output customTopicEndpoint string = customTopic.properties.endpoint
output storageSystemTopicName string = storageSystemTopic.name
output workspaceSystemTopicName string = workspaceSystemTopic.name
