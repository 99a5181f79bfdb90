// Alerts from the serving and saga SLOs, all routed to one action group:
//   - endpoint p95 latency > 600 ms over 5 minutes (platform metric of the online endpoint);
//   - endpoint 5xx rate > 1% over 5 minutes (there is no error-rate metric, so a log query on the
//     endpoint's traffic log, which aml.bicep sends to Log Analytics);
//   - any failed saga (Durable Functions orchestration tracking in App Insights, plus the app's own
//     *.failed custom events).
param location string
param tags object
param actionGroupName string
@description('Receiver of alert e-mails; empty leaves the action group without receivers.')
param alertEmail string
param workspaceName string
param endpointName string
param logAnalyticsName string
param applicationInsightsName string
param p95LatencyThresholdMs int = 600
@description('Maximum share of 5xx responses, as a fraction.')
param max5xxRate string = '0.01'

resource workspace 'Microsoft.MachineLearningServices/workspaces@2024-04-01' existing = {
  name: workspaceName

  resource onlineEndpoint 'onlineEndpoints' existing = {
    name: endpointName
  }
}

resource logAnalytics 'Microsoft.OperationalInsights/workspaces@2023-09-01' existing = {
  name: logAnalyticsName
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource actionGroup 'Microsoft.Insights/actionGroups@2023-01-01' = {
  name: actionGroupName
  location: 'Global'
  tags: union(tags, { Component: 'alerts' })
  properties: {
    groupShortName: 'mlops-alert'
    enabled: true
    emailReceivers: empty(alertEmail) ? [] : [
      {
        name: 'mlops-oncall'
        emailAddress: alertEmail
        useCommonAlertSchema: true
      }
    ]
  }
}

resource endpointLatencyAlert 'Microsoft.Insights/metricAlerts@2018-03-01' = {
  name: 'endpoint-p95-latency-${endpointName}'
  location: 'global'
  tags: union(tags, { Component: 'alerts' })
  properties: {
    description: 'Online endpoint p95 latency above ${p95LatencyThresholdMs} ms over 5 minutes.'
    severity: 2
    enabled: true
    scopes: [workspace::onlineEndpoint.id]
    evaluationFrequency: 'PT1M'
    windowSize: 'PT5M'
    criteria: {
      'odata.type': 'Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria'
      allOf: [
        {
          name: 'p95-latency'
          criterionType: 'StaticThresholdCriterion'
          metricNamespace: 'Microsoft.MachineLearningServices/workspaces/onlineEndpoints'
          metricName: 'RequestLatency_P95'
          timeAggregation: 'Average'
          operator: 'GreaterThan'
          threshold: p95LatencyThresholdMs
        }
      ]
    }
    autoMitigate: true
    actions: [
      {
        actionGroupId: actionGroup.id
      }
    ]
  }
}

var endpoint5xxQuery = replace(replace('''
AmlOnlineEndpointTrafficLog
| where EndpointName == "{ENDPOINT_NAME}"
| summarize total = count(), failed = countif(ResponseCode startswith "5")
| extend failRate = todouble(failed) / todouble(total)
| where total > 0 and failRate > {MAX_RATE}
''', '{ENDPOINT_NAME}', endpointName), '{MAX_RATE}', max5xxRate)

resource endpoint5xxAlert 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = {
  name: 'endpoint-5xx-rate-${endpointName}'
  location: location
  tags: union(tags, { Component: 'alerts' })
  kind: 'LogAlert'
  properties: {
    displayName: 'Online endpoint 5xx rate above ${max5xxRate} over 5 minutes'
    severity: 1
    enabled: true
    scopes: [logAnalytics.id]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT5M'
    // The traffic-log table appears only after the first request; do not fail provisioning before that.
    skipQueryValidation: true
    criteria: {
      allOf: [
        {
          query: endpoint5xxQuery
          timeAggregation: 'Count'
          operator: 'GreaterThan'
          threshold: 0
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    autoMitigate: true
    actions: {
      actionGroups: [actionGroup.id]
    }
  }
}

// Durable Functions writes orchestration state changes as traces (Category Host.Triggers.DurableTask,
// prop__state); the app may also emit its own "<saga>.failed" custom events.
var sagaFailureQuery = '''
union isfuzzy=true
  (traces
    | where tostring(customDimensions.Category) startswith "Host.Triggers.DurableTask"
    | where tostring(customDimensions.prop__functionType) == "Orchestrator"
    | where tostring(customDimensions.prop__state) == "Failed"
    | project timestamp, instanceId = tostring(customDimensions.prop__instanceId), saga = tostring(customDimensions.prop__functionName)),
  (customEvents
    | where name endswith ".failed"
    | project timestamp, instanceId = tostring(customDimensions.instanceId), saga = name)
'''

resource sagaFailureAlert 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = {
  name: 'saga-failures-${applicationInsightsName}'
  location: location
  tags: union(tags, { Component: 'alerts' })
  kind: 'LogAlert'
  properties: {
    displayName: 'A training or release saga failed'
    severity: 1
    enabled: true
    scopes: [applicationInsights.id]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT5M'
    skipQueryValidation: true
    criteria: {
      allOf: [
        {
          query: sagaFailureQuery
          timeAggregation: 'Count'
          operator: 'GreaterThan'
          threshold: 0
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    autoMitigate: false
    actions: {
      actionGroups: [actionGroup.id]
    }
  }
}
