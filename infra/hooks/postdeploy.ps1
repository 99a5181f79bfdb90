# Windows twin of postdeploy.sh: see there for why.
$ErrorActionPreference = 'Stop'

$enabled = azd env get-value EVENT_SUBSCRIPTIONS_ENABLED 2>$null
if ($LASTEXITCODE -eq 0 -and "$enabled".Trim() -eq 'true') {
  Write-Host 'postdeploy: Event Grid subscriptions already provisioned.'
  exit 0
}

Write-Host 'postdeploy: functions are deployed; provisioning the Event Grid subscriptions.'
azd env set EVENT_SUBSCRIPTIONS_ENABLED true
azd provision --no-prompt
if ($LASTEXITCODE -ne 0) { exit $LASTEXITCODE }
