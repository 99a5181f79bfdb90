# Windows twin of preprovision.sh: see there for why.
$ErrorActionPreference = 'Stop'

function Get-AzdValue([string]$name) {
  $value = azd env get-value $name 2>$null
  if ($LASTEXITCODE -ne 0) { return '' }
  return "$value".Trim()
}

if (-not (Get-Command az -ErrorAction SilentlyContinue)) {
  Write-Host 'preprovision: az CLI not found; using the azd environment values as they are.'
  exit 0
}
az account show 1>$null 2>$null
if ($LASTEXITCODE -ne 0) {
  Write-Host 'preprovision: az CLI not signed in; using the azd environment values as they are.'
  exit 0
}

$envName = $env:AZURE_ENV_NAME
if (-not $envName) { throw 'AZURE_ENV_NAME is not set' }
$resources = az resource list --tag "azd-env-name=$envName" --query '[].{id:id, type:type}' -o json | ConvertFrom-Json

if ((Get-AzdValue 'AML_ENDPOINT_PROVISIONED') -ne 'true') {
  $workspace = $resources | Where-Object { $_.type -eq 'Microsoft.MachineLearningServices/workspaces' } | Select-Object -First 1
  if ($workspace) {
    $endpoints = az rest --method get --url "$($workspace.id)/onlineEndpoints?api-version=2024-04-01" --query 'length(value)' -o tsv 2>$null
    if ($LASTEXITCODE -eq 0 -and [int]$endpoints -gt 0) {
      Write-Host 'preprovision: online endpoint exists; it will not be re-created.'
      azd env set AML_ENDPOINT_PROVISIONED true
    }
  }
}

if ((Get-AzdValue 'EVENT_SUBSCRIPTIONS_ENABLED') -ne 'true') {
  $site = $resources | Where-Object { $_.type -eq 'Microsoft.Web/sites' } | Select-Object -First 1
  if ($site) {
    $count = az rest --method get --url "$($site.id)/functions?api-version=2024-04-01" --query 'length(value)' -o tsv 2>$null
    if ($LASTEXITCODE -eq 0 -and [int]$count -gt 0) {
      Write-Host "preprovision: $count functions deployed; Event Grid subscriptions will be provisioned."
      azd env set EVENT_SUBSCRIPTIONS_ENABLED true
    }
  }
}
