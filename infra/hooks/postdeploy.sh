#!/bin/sh
# Runs after `azd deploy`. Two jobs:
# 1. Register what Azure ML runs that only this repository can provide: the code asset the ETL and training
#    jobs execute (code: ../.. in aml/jobs/*.yml), the job environment (inference/train.Dockerfile) and the
#    inference environment (inference/infer.Dockerfile), each built by Azure ML from a small staged context
#    (no local Docker needed). Versions are content hashes, so an unchanged asset is neither uploaded nor
#    rebuilt again. Their ids become the Function App settings AML_CODE_ID, AML_JOB_ENVIRONMENT_ID and
#    AML_INFERENCE_ENVIRONMENT_ID (now, and in the azd environment so later provisions keep them).
# 2. Event Grid validates an AzureFunction destination when the subscription is created, so the
#    subscriptions can only exist once the code is deployed. The first time, turn them on and provision
#    again; later runs find EVENT_SUBSCRIPTIONS_ENABLED=true and skip that.
set -eu

root=$(cd "$(dirname "$0")/../.." && pwd)
current() { azd env get-value "$1" 2>/dev/null || true; }

# Hash of a directory's file names and contents, independent of where it is staged.
content_version() {
  (cd "$1" && find . -type f | LC_ALL=C sort | xargs sha256sum | sha256sum | cut -c1-16)
}

stage() {
  ctx=$(mktemp -d)
  for item in "$@"; do
    mkdir -p "$ctx/$(dirname "$item")"
    cp -R "$root/$item" "$ctx/$item"
  done
  echo "$ctx"
}

register_environment() {
  name=$1 dockerfile=$2 ctx=$3
  version=$(content_version "$ctx")
  if ! az ml environment show --name "$name" --version "$version" $ws_args >/dev/null 2>&1; then
    echo "postdeploy: registering environment $name:$version (Azure ML builds $dockerfile)." >&2
    az ml environment create --name "$name" --version "$version" --build-context "$ctx" \
      --dockerfile-path "$dockerfile" $ws_args --only-show-errors >/dev/null
  fi
  rm -rf "$ctx"
  az ml environment show --name "$name" --version "$version" $ws_args --query id -o tsv
}

register_code() {
  # The upload honours .amlignore (node_modules, dist, local state stay out).
  version=$(cd "$root" && git ls-files -z 2>/dev/null | xargs -0 sha256sum 2>/dev/null | sha256sum | cut -c1-16)
  if ! az ml code show --name demand-forecast-src --version "$version" $ws_args >/dev/null 2>&1; then
    echo "postdeploy: registering code asset demand-forecast-src:$version." >&2
    az ml code create --name demand-forecast-src --version "$version" --path "$root" $ws_args \
      --only-show-errors >/dev/null
  fi
  az ml code show --name demand-forecast-src --version "$version" $ws_args --query id -o tsv
}

if command -v az >/dev/null 2>&1 && az account show >/dev/null 2>&1; then
  az extension add --name ml --upgrade --yes --only-show-errors >/dev/null
  ws_args="--resource-group $(current AZURE_RESOURCE_GROUP) --workspace-name $(current AML_WORKSPACE_NAME)"
  code_id=$(register_code)
  job_env_id=$(register_environment demand-forecast-jobs inference/train.Dockerfile \
    "$(stage package.json package-lock.json inference/train.Dockerfile)")
  infer_env_id=$(register_environment demand-forecast-infer inference/infer.Dockerfile \
    "$(stage package.json package-lock.json tsconfig.json training inference)")
  azd env set AML_CODE_ID "$code_id"
  azd env set AML_JOB_ENVIRONMENT_ID "$job_env_id"
  azd env set AML_INFERENCE_ENVIRONMENT_ID "$infer_env_id"
  az functionapp config appsettings set --name "$(current AZURE_FUNCTION_APP_NAME)" \
    --resource-group "$(current AZURE_RESOURCE_GROUP)" --only-show-errors --output none \
    --settings "AML_CODE_ID=$code_id" "AML_JOB_ENVIRONMENT_ID=$job_env_id" \
    "AML_INFERENCE_ENVIRONMENT_ID=$infer_env_id"
  echo "postdeploy: jobs run $code_id in $job_env_id; deployments run $infer_env_id."
else
  echo "postdeploy: az CLI missing or not signed in; Azure ML assets not registered." >&2
  echo "postdeploy: jobs and deployments will fail naming AML_CODE_ID / AML_*_ENVIRONMENT_ID until they are." >&2
fi

if [ "$(current EVENT_SUBSCRIPTIONS_ENABLED)" = "true" ]; then
  echo "postdeploy: Event Grid subscriptions already provisioned."
  exit 0
fi

echo "postdeploy: functions are deployed; provisioning the Event Grid subscriptions."
azd env set EVENT_SUBSCRIPTIONS_ENABLED true
azd provision --no-prompt
