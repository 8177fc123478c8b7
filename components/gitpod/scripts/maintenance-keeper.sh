#!/usr/bin/env bash
# The maintenance keeper (components/gitpod/maintenance_keeper.py), every minute, on builds whose workspace manager
# knows no maintenance mode (contract.gitpod_builds `scale-ws-manager`). The lease is the same ConfigMap
# ws-manager-mk2 reads ($LEASE_NAMESPACE/$LEASE_CONFIG_MAP, config.json {"enabledUntil": "<RFC 3339>"}):
#   - while `enabledUntil` lies ahead, $WORKSPACE_MANAGER is held at zero replicas (nothing starts, stops or takes a
#     snapshot; running workspaces keep running), and the replicas it had are kept in an annotation;
#   - once it has passed (or the lease is gone or unreadable, as ws-manager-mk2 reads it), the deployment gets those
#     replicas back and the annotation goes.
# So maintenance ends by itself when the lease passes, even if whoever entered it has died.
set -euo pipefail
: "${NAMESPACE:?}" "${WORKSPACE_MANAGER:?}" "${LEASE_NAMESPACE:?}" "${LEASE_CONFIG_MAP:?}" "${REPLICAS_ANNOTATION:?}"

lease_running() {
  local until until_seconds
  until=$(kubectl get configmap --namespace "$LEASE_NAMESPACE" "$LEASE_CONFIG_MAP" -o json 2>/dev/null |
    jq -r '(.data["config.json"] // "{}") | (try fromjson catch {}) | .enabledUntil // empty' 2>/dev/null) || return 1
  [ -n "$until" ] || return 1
  until_seconds=$(jq -rn --arg until "$until" '$until | try fromdateiso8601 catch empty') || return 1
  [ -n "$until_seconds" ] && [ "$until_seconds" -gt "$(date -u +%s)" ]
}

if ! deployment=$(kubectl get deployment --namespace "$NAMESPACE" "$WORKSPACE_MANAGER" -o json 2>/dev/null); then
  echo "maintenance-keeper: no deployment $NAMESPACE/$WORKSPACE_MANAGER yet; nothing to keep"
  exit 0
fi
replicas=$(jq -r '.spec.replicas // 1' <<<"$deployment")
recorded=$(jq -r --arg key "$REPLICAS_ANNOTATION" '.metadata.annotations[$key] // empty' <<<"$deployment")

if lease_running; then
  if [ "$replicas" != "0" ]; then
    # Keep what it had before maintenance began: a later re-apply (say, replicas 1) must not overwrite it.
    if [ -z "$recorded" ]; then
      kubectl annotate deployment --namespace "$NAMESPACE" "$WORKSPACE_MANAGER" "$REPLICAS_ANNOTATION=$replicas"
      recorded=$replicas
    fi
    kubectl scale deployment --namespace "$NAMESPACE" "$WORKSPACE_MANAGER" --replicas=0
    echo "maintenance-keeper: lease running: $WORKSPACE_MANAGER 0 replicas (back to $recorded after)"
  else
    echo "maintenance-keeper: lease running: $WORKSPACE_MANAGER held at 0 replicas"
  fi
elif [ -n "$recorded" ]; then
  kubectl scale deployment --namespace "$NAMESPACE" "$WORKSPACE_MANAGER" --replicas="$recorded"
  kubectl annotate deployment --namespace "$NAMESPACE" "$WORKSPACE_MANAGER" "$REPLICAS_ANNOTATION-"
  echo "maintenance-keeper: lease over: $WORKSPACE_MANAGER back to $recorded replicas"
else
  echo "maintenance-keeper: no lease running; $WORKSPACE_MANAGER left at $replicas replicas"
fi
