// Log Analytics + workspace-based Application Insights. Local auth is off: telemetry is sent with
// the app identity (APPLICATIONINSIGHTS_AUTHENTICATION_STRING + Monitoring Metrics Publisher).
param location string
param tags object
param logAnalyticsName string
param applicationInsightsName string
@minValue(30)
param retentionInDays int = 30

resource logAnalytics 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: logAnalyticsName
  location: location
  tags: union(tags, { Component: 'monitoring' })
  properties: {
    sku: {
      name: 'PerGB2018'
    }
    retentionInDays: retentionInDays
    features: {
      disableLocalAuth: true
    }
  }
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: applicationInsightsName
  location: location
  tags: union(tags, { Component: 'monitoring' })
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: logAnalytics.id
    DisableLocalAuth: true
  }
}

output logAnalyticsName string = logAnalytics.name
output logAnalyticsCustomerId string = logAnalytics.properties.customerId
output applicationInsightsName string = applicationInsights.name

// The saga dashboard in the portal: the queries of infra/monitor/*.kql over this component (see the
// Observability section of the README). Workbook names must be GUIDs; this one is stable per component.
resource sagaWorkbook 'Microsoft.Insights/workbooks@2023-06-01' = {
  name: guid(applicationInsights.id, 'mlops-saga-workbook')
  location: location
  tags: union(tags, { Component: 'monitoring' })
  kind: 'shared'
  properties: {
    displayName: 'MLOps sagas (${applicationInsightsName})'
    category: 'workbook'
    sourceId: applicationInsights.id
    serializedData: loadTextContent('../monitor/workbook.json')
  }
}
