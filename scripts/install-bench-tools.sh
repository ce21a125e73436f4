#!/usr/bin/env bash
# install-bench-tools.sh installs the yardsticks of `coffer bench --compare`
# (idempotent): rclone from Debian's packages, and kopia v0.23.1 built from
# the Go module proxy into the tools cache (the version coffer's own vault
# library is). The test command does not need them.
set -euo pipefail
KOPIA_VERSION="v0.23.1"
TOOLS_DIR="${COFFER_TOOLS:-$HOME/.cache/coffer/tools}"
mkdir -p "$TOOLS_DIR"
TOOLS_DIR="$(cd "$TOOLS_DIR" && pwd)"
if ! command -v rclone >/dev/null; then
	apt-get install -y rclone >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y rclone >/dev/null; }
fi
echo "rclone: $(rclone version | head -1)"
stamp="$TOOLS_DIR/kopia.version"
if [[ -x "$TOOLS_DIR/kopia" && -f "$stamp" && "$(cat "$stamp")" == "$KOPIA_VERSION" ]]; then
	echo "kopia: $KOPIA_VERSION already installed in $TOOLS_DIR"
else
	# `go install kopia@version` asks the proxy for the module's version
	# list, which it refuses here; a throwaway module that requires the
	# exact version builds it.
	work="$(mktemp -d)"
	trap 'rm -rf "$work"' EXIT
	printf 'module kopiabuild\n\ngo 1.26\n\nrequire github.com/kopia/kopia %s\n' "$KOPIA_VERSION" >"$work/go.mod"
	printf '//go:build tools\n\npackage tools\n\nimport _ "github.com/kopia/kopia"\n' >"$work/tools.go"
	(cd "$work" && GOFLAGS=-mod=mod GOWORK=off go mod tidy && GOWORK=off go build -o "$TOOLS_DIR/kopia" github.com/kopia/kopia)
	echo "$KOPIA_VERSION" >"$stamp"
	echo "kopia: installed $KOPIA_VERSION in $TOOLS_DIR"
fi
echo "put $TOOLS_DIR on PATH for coffer bench --compare to find kopia"
