// Event Grid subscriptions to the app's Event Grid functions, generated from ../eventSubscriptions.json
// (the same list test/infra checks). Deployed only after the functions exist: Event Grid validates an
// AzureFunction destination when the subscription is created.
param functionAppName string
param storageSystemTopicName string
param workspaceSystemTopicName string
param dataLakeName string
param eventGridIdentityName string
param rawContainer string
param rawPrefix string

var eventGrid = loadJsonContent('../eventSubscriptions.json')
var delivery = eventGrid.delivery
var storageSubscriptions = filter(eventGrid.subscriptions, sub => sub.source == 'storage')
var workspaceSubscriptions = filter(eventGrid.subscriptions, sub => sub.source == 'mlWorkspace')

resource functionApp 'Microsoft.Web/sites@2024-04-01' existing = {
  name: functionAppName
}

resource dataLake 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: dataLakeName
}

resource eventGridIdentity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' existing = {
  name: eventGridIdentityName
}

resource storageSystemTopic 'Microsoft.EventGrid/systemTopics@2022-06-15' existing = {
  name: storageSystemTopicName
}

resource workspaceSystemTopic 'Microsoft.EventGrid/systemTopics@2022-06-15' existing = {
  name: workspaceSystemTopicName
}

// Shared by every subscription: bounded retries, then the event is kept as a blob in the dead-letter container.
var retryPolicy = {
  maxDeliveryAttempts: delivery.maxDeliveryAttempts
  eventTimeToLiveInMinutes: delivery.eventTimeToLiveInMinutes
}
var deadLetterWithResourceIdentity = {
  identity: {
    type: 'UserAssigned'
    userAssignedIdentity: eventGridIdentity.id
  }
  deadLetterDestination: {
    endpointType: 'StorageBlob'
    properties: {
      resourceId: dataLake.id
      blobContainerName: delivery.deadLetterContainer
    }
  }
}

resource storageEventSubscriptions 'Microsoft.EventGrid/systemTopics/eventSubscriptions@2022-06-15' = [
  for sub in storageSubscriptions: {
    parent: storageSystemTopic
    name: sub.functionName
    properties: {
      destination: {
        endpointType: 'AzureFunction'
        properties: {
          resourceId: '${functionApp.id}/functions/${sub.functionName}'
          maxEventsPerBatch: delivery.maxEventsPerBatch
          preferredBatchSizeInKilobytes: delivery.preferredBatchSizeInKilobytes
        }
      }
      eventDeliverySchema: 'EventGridSchema'
      filter: {
        includedEventTypes: sub.eventTypes
        subjectBeginsWith: replace(replace(sub.subjectBeginsWith, '{RAW_CONTAINER}', rawContainer), '{RAW_PREFIX}', rawPrefix)
        subjectEndsWith: sub.subjectEndsWith
        advancedFilters: sub.advancedFilters
      }
      retryPolicy: retryPolicy
      deadLetterWithResourceIdentity: deadLetterWithResourceIdentity
    }
  }
]

resource workspaceEventSubscriptions 'Microsoft.EventGrid/systemTopics/eventSubscriptions@2022-06-15' = [
  for sub in workspaceSubscriptions: {
    parent: workspaceSystemTopic
    name: sub.functionName
    properties: {
      destination: {
        endpointType: 'AzureFunction'
        properties: {
          resourceId: '${functionApp.id}/functions/${sub.functionName}'
          maxEventsPerBatch: delivery.maxEventsPerBatch
          preferredBatchSizeInKilobytes: delivery.preferredBatchSizeInKilobytes
        }
      }
      eventDeliverySchema: 'EventGridSchema'
      filter: {
        includedEventTypes: sub.eventTypes
        subjectBeginsWith: sub.subjectBeginsWith
        subjectEndsWith: sub.subjectEndsWith
        advancedFilters: sub.advancedFilters
      }
      retryPolicy: retryPolicy
      deadLetterWithResourceIdentity: deadLetterWithResourceIdentity
    }
  }
]

output subscriptionNames array = map(eventGrid.subscriptions, sub => sub.functionName)
