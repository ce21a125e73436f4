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
go vet ./...
"${COFFER_TOOLS:-$HOME/.cache/coffer/tools}/staticcheck" ./...
go test -race -timeout 18m "$@" ./...
# A few seconds of every fuzz target beyond its seeds (scripts/fuzz.sh;
# the soak fuzzes for minutes). COFFER_FUZZTIME=0 skips it.
if [ "${COFFER_FUZZTIME:-3}" != 0 ]; then
	FUZZTIME="${COFFER_FUZZTIME:-3}" bash scripts/fuzz.sh
fi
