#!/usr/bin/env bash
# install-test-servers.sh builds the real S3 servers coffer's integration
# tests run against (MinIO and versitygw) into a cache folder, at pinned
# versions. It is idempotent: a binary whose version stamp matches the pinned
# version is not rebuilt.
#
# Cache folder: $COFFER_TESTBIN, default $HOME/.cache/coffer/testbin.
# MinIO is AGPL: it is only ever run as a separate test process, never
# imported by coffer.
set -euo pipefail

MINIO_MODULE="github.com/minio/minio"
MINIO_VERSION="v0.0.0-20260212201848-7aac2a2c5b7c"
VGW_MODULE="github.com/versity/versitygw/cmd/versitygw"
VGW_VERSION="v1.8.0"

BIN_DIR="${COFFER_TESTBIN:-$HOME/.cache/coffer/testbin}"
mkdir -p "$BIN_DIR"
BIN_DIR="$(cd "$BIN_DIR" && pwd)"

# Build outside any module so coffer's go.mod is never touched.
WORK_DIR="$(mktemp -d)"
trap 'rm -rf "$WORK_DIR"' EXIT

install_one() {
	local name="$1" module="$2" version="$3"
	local bin="$BIN_DIR/$name" stamp="$BIN_DIR/$name.version"
	local want="$module@$version"
	if [[ -x "$bin" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
		echo "$name: $version already installed in $BIN_DIR"
		return 0
	fi
	echo "$name: building $want into $BIN_DIR (this can take a few minutes)"
	rm -f "$stamp"
	(cd "$WORK_DIR" && GOBIN="$BIN_DIR" GOFLAGS= GOWORK=off GO111MODULE=on go install "$want")
	printf '%s\n' "$want" >"$stamp"
	echo "$name: installed $version"
}

install_one minio "$MINIO_MODULE" "$MINIO_VERSION"
install_one versitygw "$VGW_MODULE" "$VGW_VERSION"
