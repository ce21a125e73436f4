#!/usr/bin/env bash
# install-tools.sh builds the linters the test command runs into a cache
# folder at pinned versions (idempotent).
set -euo pipefail
STATICCHECK_VERSION="v0.6.1"
TOOLS_DIR="${COFFER_TOOLS:-$HOME/.cache/coffer/tools}"
mkdir -p "$TOOLS_DIR"
TOOLS_DIR="$(cd "$TOOLS_DIR" && pwd)"
stamp="$TOOLS_DIR/staticcheck.version"
if [[ -x "$TOOLS_DIR/staticcheck" && -f "$stamp" && "$(cat "$stamp")" == "$STATICCHECK_VERSION" ]]; then
	echo "staticcheck: $STATICCHECK_VERSION already installed in $TOOLS_DIR"
	exit 0
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && GOBIN="$TOOLS_DIR" GOFLAGS= GOWORK=off go install "honnef.co/go/tools/cmd/staticcheck@$STATICCHECK_VERSION")
echo "$STATICCHECK_VERSION" >"$stamp"
echo "staticcheck: installed $STATICCHECK_VERSION"
