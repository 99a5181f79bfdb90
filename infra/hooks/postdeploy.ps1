# Windows twin of postdeploy.sh: see there for why (Azure ML asset registration, then Event Grid subscriptions).
$ErrorActionPreference = 'Stop'

$root = (Resolve-Path (Join-Path $PSScriptRoot '../..')).Path
function Current([string]$name) {
  $value = azd env get-value $name 2>$null
  if ($LASTEXITCODE -eq 0) { return "$value".Trim() } else { return '' }
}
function Invoke-Checked([scriptblock]$command) {
  & $command
  if ($LASTEXITCODE -ne 0) { throw "postdeploy: command failed with exit code $LASTEXITCODE" }
}

# Hash of a directory's relative file names and contents, independent of where it is staged.
function Get-ContentVersion([string]$dir) {
  $lines = Get-ChildItem -Path $dir -Recurse -File | Sort-Object FullName | ForEach-Object {
    $relative = $_.FullName.Substring($dir.Length).Replace('\', '/')
    "$((Get-FileHash $_.FullName -Algorithm SHA256).Hash.ToLower())  .$relative"
  }
  $bytes = [Text.Encoding]::UTF8.GetBytes(($lines -join "`n"))
  $hash = [Security.Cryptography.SHA256]::Create().ComputeHash($bytes)
  return (-join ($hash | ForEach-Object { $_.ToString('x2') })).Substring(0, 16)
}

function New-StagedContext([string[]]$items) {
  $ctx = Join-Path ([IO.Path]::GetTempPath()) ([Guid]::NewGuid().ToString('N'))
  foreach ($item in $items) {
    $target = Join-Path $ctx $item
    New-Item -ItemType Directory -Force -Path (Split-Path $target -Parent) | Out-Null
    Copy-Item -Recurse -Path (Join-Path $root $item) -Destination $target
  }
  return $ctx
}

function Register-Environment([string]$name, [string]$dockerfile, [string]$ctx, [string[]]$wsArgs) {
  $version = Get-ContentVersion $ctx
  az ml environment show --name $name --version $version @wsArgs *> $null
  if ($LASTEXITCODE -ne 0) {
    Write-Host "postdeploy: registering environment ${name}:$version (Azure ML builds $dockerfile)."
    Invoke-Checked { az ml environment create --name $name --version $version --build-context $ctx `
        --dockerfile-path $dockerfile @wsArgs --only-show-errors | Out-Null }
  }
  Remove-Item -Recurse -Force $ctx
  return (az ml environment show --name $name --version $version @wsArgs --query id -o tsv).Trim()
}

function Register-Code([string[]]$wsArgs) {
  # The upload honours .amlignore (node_modules, dist, local state stay out).
  Push-Location $root
  try {
    $files = git ls-files | Sort-Object
    $lines = $files | ForEach-Object { "$((Get-FileHash $_ -Algorithm SHA256).Hash.ToLower())  $_" }
  } finally { Pop-Location }
  $bytes = [Text.Encoding]::UTF8.GetBytes(($lines -join "`n"))
  $hash = [Security.Cryptography.SHA256]::Create().ComputeHash($bytes)
  $version = (-join ($hash | ForEach-Object { $_.ToString('x2') })).Substring(0, 16)
  az ml code show --name demand-forecast-src --version $version @wsArgs *> $null
  if ($LASTEXITCODE -ne 0) {
    Write-Host "postdeploy: registering code asset demand-forecast-src:$version."
    Invoke-Checked { az ml code create --name demand-forecast-src --version $version --path $root @wsArgs `
        --only-show-errors | Out-Null }
  }
  return (az ml code show --name demand-forecast-src --version $version @wsArgs --query id -o tsv).Trim()
}

$signedIn = $false
if (Get-Command az -ErrorAction SilentlyContinue) {
  az account show *> $null
  $signedIn = $LASTEXITCODE -eq 0
}
if ($signedIn) {
  Invoke-Checked { az extension add --name ml --upgrade --yes --only-show-errors | Out-Null }
  $wsArgs = @('--resource-group', (Current 'AZURE_RESOURCE_GROUP'), '--workspace-name', (Current 'AML_WORKSPACE_NAME'))
  $codeId = Register-Code $wsArgs
  $jobEnvId = Register-Environment 'demand-forecast-jobs' 'inference/train.Dockerfile' `
    (New-StagedContext @('package.json', 'package-lock.json', 'inference/train.Dockerfile')) $wsArgs
  $inferEnvId = Register-Environment 'demand-forecast-infer' 'inference/infer.Dockerfile' `
    (New-StagedContext @('package.json', 'package-lock.json', 'tsconfig.json', 'training', 'inference')) $wsArgs
  azd env set AML_CODE_ID $codeId
  azd env set AML_JOB_ENVIRONMENT_ID $jobEnvId
  azd env set AML_INFERENCE_ENVIRONMENT_ID $inferEnvId
  Invoke-Checked { az functionapp config appsettings set --name (Current 'AZURE_FUNCTION_APP_NAME') `
      --resource-group (Current 'AZURE_RESOURCE_GROUP') --only-show-errors --output none `
      --settings "AML_CODE_ID=$codeId" "AML_JOB_ENVIRONMENT_ID=$jobEnvId" "AML_INFERENCE_ENVIRONMENT_ID=$inferEnvId" }
  Write-Host "postdeploy: jobs run $codeId in $jobEnvId; deployments run $inferEnvId."
} else {
  Write-Warning 'postdeploy: az CLI missing or not signed in; Azure ML assets not registered.'
  Write-Warning 'postdeploy: jobs and deployments will fail naming AML_CODE_ID / AML_*_ENVIRONMENT_ID until they are.'
}

if ((Current 'EVENT_SUBSCRIPTIONS_ENABLED') -eq 'true') {
  Write-Host 'postdeploy: Event Grid subscriptions already provisioned.'
  exit 0
}

Write-Host 'postdeploy: functions are deployed; provisioning the Event Grid subscriptions.'
azd env set EVENT_SUBSCRIPTIONS_ENABLED true
azd provision --no-prompt
if ($LASTEXITCODE -ne 0) { exit $LASTEXITCODE }
