// User-assigned identities: one per caller, so each gets only its own roles (see rbac.bicep).
param location string
param tags object
@description('Identity of the Function App (storage, Azure ML, monitoring, Event Grid publishing).')
param appIdentityName string
@description('Identity of the training cluster (reads and writes the data lake, pulls images).')
param computeIdentityName string
@description('Identity Event Grid uses to write dead letters.')
param eventGridIdentityName string

resource appIdentity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: appIdentityName
  location: location
  tags: union(tags, { Component: 'functions' })
}

resource computeIdentity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: computeIdentityName
  location: location
  tags: union(tags, { Component: 'ml' })
}

resource eventGridIdentity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: eventGridIdentityName
  location: location
  tags: union(tags, { Component: 'events' })
}

output appIdentityName string = appIdentity.name
output appPrincipalId string = appIdentity.properties.principalId
output appClientId string = appIdentity.properties.clientId
output computeIdentityName string = computeIdentity.name
output computePrincipalId string = computeIdentity.properties.principalId
output eventGridIdentityName string = eventGridIdentity.name
output eventGridPrincipalId string = eventGridIdentity.properties.principalId
