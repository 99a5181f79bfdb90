#!/bin/sh
# Runs after `azd deploy`. Event Grid validates an AzureFunction destination when the subscription is
# created, so the subscriptions can only exist once the code is deployed. The first time, turn them on and
# provision again; later runs find EVENT_SUBSCRIPTIONS_ENABLED=true and do nothing.
set -eu

if [ "$(azd env get-value EVENT_SUBSCRIPTIONS_ENABLED 2>/dev/null || true)" = "true" ]; then
  echo "postdeploy: Event Grid subscriptions already provisioned."
  exit 0
fi

echo "postdeploy: functions are deployed; provisioning the Event Grid subscriptions."
azd env set EVENT_SUBSCRIPTIONS_ENABLED true
azd provision --no-prompt
