#!/usr/bin/env bash
# test.sh is coffer's test command (README.md): it installs what the tests
# need (pinned MinIO and versitygw builds, staticcheck; cached after the first
# run), then runs go vet, staticcheck and every test with the race detector.
# Benchmarks and soaks are not part of it: see `coffer bench` and
# scripts/soak.sh (the model test runs here for 2 minutes).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-test-servers.sh
bash scripts/install-tools.sh
export COFFER_TESTBIN="${COFFER_TESTBIN:-$HOME/.cache/coffer/testbin}"
# PostgreSQL for the catalog's scale-out tests (trust auth, database test).
export COFFER_TEST_POSTGRES="${COFFER_TEST_POSTGRES:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}"
# Temporary files (MinIO's and versitygw's drives, vaults, SQLite
# catalogs) on tmpfs when the machine has one with room: the tests fsync a
# lot and a disk makes them several times slower. COFFER_TEST_TMPDIR
# chooses another place.
if [ -z "${COFFER_TEST_TMPDIR:-}" ] && [ -d /dev/shm ] && [ -w /dev/shm ] &&
	[ "$(df -Pk /dev/shm | awk 'NR==2 {print $4}')" -gt $((8 * 1024 * 1024)) ]; then
	COFFER_TEST_TMPDIR=/dev/shm/coffer-test
fi
if [ -n "${COFFER_TEST_TMPDIR:-}" ]; then
	mkdir -p "$COFFER_TEST_TMPDIR"
	export TMPDIR="$COFFER_TEST_TMPDIR"
fi
# kopia's `testing` tag: new vaults derive their format key with a cheap
# function instead of scrypt, which costs seconds per vault open under the
# race detector (kopia's own tests do the same). Child builds (the kill
# tests' `go build`) inherit it through GOFLAGS; TestScryptVaultRoundTrip
# keeps the production derivation covered.
export GOFLAGS="${GOFLAGS:+$GOFLAGS }-tags=testing"
go vet ./...
"${COFFER_TOOLS:-$HOME/.cache/coffer/tools}/staticcheck" ./...
# The longest packages first, so that two of them do not end up running
# alone at the end (go test runs packages in the order given, two at a
# time on two cores).
slowest="./internal/service ./internal/api ./internal/cli/servercmd ./internal/vault ./internal/modeltest ./internal/coffertest ./internal/restore ./internal/capturelog ./internal/capture"
# shellcheck disable=SC2086 # the list splits on purpose
go test -race -timeout 18m "$@" $slowest ./...
# A few seconds of every fuzz target beyond its seeds (scripts/fuzz.sh;
# the soak fuzzes for minutes). COFFER_FUZZTIME=0 skips it.
if [ "${COFFER_FUZZTIME:-3}" != 0 ]; then
	FUZZTIME="${COFFER_FUZZTIME:-3}" bash scripts/fuzz.sh
fi
