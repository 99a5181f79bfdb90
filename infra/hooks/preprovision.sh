#!/bin/sh
# Runs before every `azd provision`. azd keeps EVENT_SUBSCRIPTIONS_ENABLED and AML_ENDPOINT_PROVISIONED in
# .azure/<env>/.env; a fresh checkout (CI) has neither, so ask Azure what an earlier run created:
# - an existing online endpoint must not be PUT again (that would reset its traffic split);
# - existing functions mean the Event Grid subscriptions can be created in this provision.
# Without the Azure CLI the values already in the azd environment are used as they are.
set -eu

current() { azd env get-value "$1" 2>/dev/null || true; }

if ! command -v az >/dev/null 2>&1; then
  echo "preprovision: az CLI not found; using the azd environment values as they are."
  exit 0
fi
if ! az account show >/dev/null 2>&1; then
  echo "preprovision: az CLI not signed in; using the azd environment values as they are."
  exit 0
fi

env_name="${AZURE_ENV_NAME:?AZURE_ENV_NAME is not set}"
resources=$(az resource list --tag "azd-env-name=${env_name}" --query "[].{id:id, type:type}" -o tsv 2>/dev/null || true)

if [ "$(current AML_ENDPOINT_PROVISIONED)" != "true" ]; then
  workspace_id=$(printf '%s\n' "$resources" | awk -F '\t' '$2 == "Microsoft.MachineLearningServices/workspaces" { print $1; exit }')
  if [ -n "$workspace_id" ]; then
    endpoints=$(az rest --method get --url "${workspace_id}/onlineEndpoints?api-version=2024-04-01" --query "length(value)" -o tsv 2>/dev/null || echo 0)
    if [ "${endpoints:-0}" -gt 0 ]; then
      echo "preprovision: online endpoint exists; it will not be re-created."
      azd env set AML_ENDPOINT_PROVISIONED true
    fi
  fi
fi

if [ "$(current EVENT_SUBSCRIPTIONS_ENABLED)" != "true" ]; then
  site_id=$(printf '%s\n' "$resources" | awk -F '\t' '$2 == "Microsoft.Web/sites" { print $1; exit }')
  if [ -n "$site_id" ]; then
    count=$(az rest --method get --url "${site_id}/functions?api-version=2024-04-01" --query "length(value)" -o tsv 2>/dev/null || echo 0)
    if [ "${count:-0}" -gt 0 ]; then
      echo "preprovision: ${count} functions deployed; Event Grid subscriptions will be provisioned."
      azd env set EVENT_SUBSCRIPTIONS_ENABLED true
    fi
  fi
fi
