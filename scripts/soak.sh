#!/usr/bin/env bash
# soak.sh runs coffer's long tests: Go tests given long durations through
# their environment variables. Each soak is one function below.
#
#   bash scripts/soak.sh               # every soak, 30 minutes each
#   bash scripts/soak.sh model         # only the named ones
#   COFFER_SOAK_DURATION=2h bash scripts/soak.sh model
#
# A failing model run prints its seed and the command that replays it.
set -euo pipefail
cd "$(dirname "$0")/.."
export COFFER_TESTBIN="${COFFER_TESTBIN:-$HOME/.cache/coffer/testbin}"
export COFFER_TEST_POSTGRES="${COFFER_TEST_POSTGRES:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}"
duration="${COFFER_SOAK_DURATION:-30m}"

# soak_model: the randomized model test (internal/modeltest) on MinIO with
# SQLite and PostgreSQL catalogs and on versitygw, sharing the duration.
soak_model() {
	COFFER_MODEL_DURATION="$duration" go test -race -count=1 -timeout 0 -v -run '^TestModel$' ./internal/modeltest/
}

# soak_kill: the kill -9 test (internal/cli/servercmd, TestKill9) with 50 kills
# instead of the test command's 10; COFFER_KILL_SEED replays a run.
soak_kill() {
	COFFER_SOAK=1 go test -race -count=1 -timeout 0 -v -run '^TestKill9$' ./internal/cli/servercmd/
}

# soak_fuzz: every fuzz target for a minute (scripts/fuzz.sh).
soak_fuzz() {
	FUZZTIME="${FUZZTIME:-60}" bash scripts/fuzz.sh
}

# soak_load: 200 SDK clients for 60 s (or COFFER_LOAD_DURATION) against the
# binary while it runs backups and restores (internal/cli/servercmd, TestLoad).
soak_load() {
	COFFER_LOAD_DURATION="${COFFER_LOAD_DURATION:-60s}" go test -count=1 -timeout 0 -v -run '^TestLoad$' ./internal/cli/servercmd/
}

# soak_faults: the fault-injection tests (internal/coffertest) again and
# again, one seed after another at 15% faults, for the duration.
soak_faults() {
	local end=$((SECONDS + $(go run ./scripts/seconds "$duration"))) seed=1
	while [ "$SECONDS" -lt "$end" ]; do
		echo "--- faults seed $seed"
		COFFER_FAULT_SEED=$seed COFFER_FAULT_RATE=0.15 go test -race -count=1 -timeout 0 \
			-run '^(TestBackupRestoreUnderFaults|TestRestoreLostWriteAnswers|TestStallLongerThanTimeouts)$' ./internal/coffertest/
		seed=$((seed + 1))
	done
}

all=(model kill fuzz load faults)
selected=("$@")
if [ ${#selected[@]} -eq 0 ]; then
	selected=("${all[@]}")
fi
for s in "${selected[@]}"; do
	if ! declare -F "soak_$s" >/dev/null; then
		echo "soak.sh: unknown soak \"$s\" (known: ${all[*]})" >&2
		exit 2
	fi
done
bash scripts/install-test-servers.sh
for s in "${selected[@]}"; do
	echo "=== soak $s ($duration)"
	"soak_$s"
done
