#!/usr/bin/env bash
# The installer Job's apply step (components/gitpod/installer.py). The `render` init container ran the pinned
# Gitpod installer into $RENDERED (one file per object, NNN_<Kind>_<name>.yaml, in render order); this container
# (the toolbox image: bash, kubectl, jq, yq v4, curl) applies the result:
#   1. writes the database CA secret when the Platform only publishes the bundle's URL;
#   2. writes the cloud identities of Gitpod's workloads onto the ServiceAccounts the installer rendered (its
#      ServiceAccount customizations are dropped, so this is the path that lands): IDENTITY_ANNOTATIONS, JSON
#      {"<service account>": {"<annotation>": "<value>"}};
#   3. stamps the storage key's version onto the pod templates of the storage users (STORAGE_USERS), so a rotated
#      key restarts exactly them;
#   4. on builds whose workspace manager knows no maintenance mode (MAINTENANCE_MECHANISM=scale-ws-manager), keeps
#      $WORKSPACE_MANAGER at zero replicas while the maintenance lease runs, recording the replicas it gives back;
#   5. applies CustomResourceDefinitions first (and waits for them), then everything else, server-side.
# Nothing is applied when any step fails.
set -euo pipefail

: "${NAMESPACE:?}" "${RENDERED:?}" "${WORK:=/tmp/gitpod-apply}"
IDENTITY_ANNOTATIONS=${IDENTITY_ANNOTATIONS:-"{}"}
STORAGE_USERS=${STORAGE_USERS:-}
STORAGE_KEY_VERSION=${STORAGE_KEY_VERSION:-}
MAINTENANCE_MECHANISM=${MAINTENANCE_MECHANISM:-mk2-lease}
: "${REPLICAS_ANNOTATION:?}"  # contract.cluster.REPLICAS_AFTER_MAINTENANCE
export IDENTITY_ANNOTATIONS STORAGE_KEY_VERSION REPLICAS_ANNOTATION

apply() { kubectl apply --server-side --force-conflicts --field-manager=gitpod-installer "$@"; }

# The lease is still running: `enabledUntil` (RFC 3339, UTC) lies in the future. Anything unreadable counts as
# ended, as ws-manager-mk2 itself treats it.
lease_running() {
  local until
  until=$(kubectl get configmap --namespace "$LEASE_NAMESPACE" "$LEASE_CONFIG_MAP" -o json 2>/dev/null |
    jq -r '(.data["config.json"] // "{}") | (try fromjson catch {}) | .enabledUntil // empty' 2>/dev/null) || return 1
  [ -n "$until" ] || return 1
  local until_seconds
  until_seconds=$(jq -rn --arg until "$until" '$until | try fromdateiso8601 catch empty') || return 1
  [ -n "$until_seconds" ] && [ "$until_seconds" -gt "$(date -u +%s)" ]
}

mkdir -p "$WORK"
if [ -n "${DATABASE_CA_URL:-}" ]; then
  curl --fail --silent --show-error --location --proto '=https' --retry 3 "$DATABASE_CA_URL" -o "$WORK/database-ca.pem"
  grep -q 'BEGIN CERTIFICATE' "$WORK/database-ca.pem"
  kubectl create secret generic "$DATABASE_CA_NAME" --namespace "$NAMESPACE" \
    --from-file=ca.crt="$WORK/database-ca.pem" --dry-run=client -o yaml | apply -f -
fi

shopt -s nullglob
rendered=("$RENDERED"/*.yaml)
if [ "${#rendered[@]}" -eq 0 ]; then
  echo "apply-gitpod: the installer rendered nothing into $RENDERED" >&2
  exit 1
fi
manifests="$WORK/gitpod.yaml"
# The installer writes some files without a final newline: start every document on a line of its own.
for file in "${rendered[@]}"; do printf -- '\n---\n' >> "$manifests"; cat "$file" >> "$manifests"; done

for account in $(jq -r 'keys[]' <<<"$IDENTITY_ANNOTATIONS"); do
  ACCOUNT=$account ANNOTATIONS=$(jq -c --arg account "$account" '.[$account]' <<<"$IDENTITY_ANNOTATIONS") \
    yq --inplace '
      (select(.kind == "ServiceAccount" and .metadata.name == strenv(ACCOUNT)) | .metadata.annotations)
        |= ((. // {}) * env(ANNOTATIONS))' "$manifests"
  if ! ACCOUNT=$account yq --exit-status \
      'select(.kind == "ServiceAccount" and .metadata.name == strenv(ACCOUNT))' "$manifests" >/dev/null; then
    echo "apply-gitpod: the installer rendered no ServiceAccount $account to give its cloud identity" >&2
    exit 1
  fi
done

if [ -n "$STORAGE_KEY_VERSION" ]; then
  for workload in $STORAGE_USERS; do
    WORKLOAD=$workload yq --inplace '
      (select((.kind == "Deployment" or .kind == "DaemonSet" or .kind == "StatefulSet")
              and .metadata.name == strenv(WORKLOAD)) | .spec.template.metadata.annotations)
        |= ((. // {}) * {"gitpod-cell/storage-key-version": strenv(STORAGE_KEY_VERSION)})' "$manifests"
  done
fi

if [ "$MAINTENANCE_MECHANISM" = "scale-ws-manager" ] && lease_running; then
  # (yq's `//` yields its alternative for every document, even those `select` dropped: test for null instead.)
  replicas=$(WORKLOAD=$WORKSPACE_MANAGER yq --no-doc \
    'select(.kind == "Deployment" and .metadata.name == strenv(WORKLOAD)) | .spec.replicas' "$manifests")
  [ "$replicas" = "null" ] && replicas=1
  if ! [[ "$replicas" =~ ^[0-9]+$ ]]; then
    echo "apply-gitpod: the installer rendered no single Deployment $WORKSPACE_MANAGER (got: $replicas)" >&2
    exit 1
  fi
  REPLICAS=$replicas WORKLOAD=$WORKSPACE_MANAGER yq --inplace '
    (select(.kind == "Deployment" and .metadata.name == strenv(WORKLOAD))) |=
      (.spec.replicas = 0 | .metadata.annotations[strenv(REPLICAS_ANNOTATION)] = strenv(REPLICAS))' "$manifests"
  echo "apply-gitpod: maintenance lease running: $WORKSPACE_MANAGER stays at 0 replicas (then $replicas)"
fi

yq 'select(.kind == "CustomResourceDefinition")' "$manifests" > "$WORK/crds.yaml"
yq 'select(.kind != null and .kind != "CustomResourceDefinition")' "$manifests" > "$WORK/objects.yaml"
if [ -s "$WORK/crds.yaml" ]; then
  apply -f "$WORK/crds.yaml"
  kubectl wait --for condition=established --timeout=120s -f "$WORK/crds.yaml"
fi
apply -f "$WORK/objects.yaml"
echo "apply-gitpod: gitpod ${GITPOD_VERSION:-} applied (config ${CONFIG_HASH:-})"
