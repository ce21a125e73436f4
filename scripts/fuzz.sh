#!/usr/bin/env bash
# fuzz.sh runs every fuzz target of coffer for FUZZTIME seconds each
# (default 10; CI a few seconds, soaks minutes) and prints the executions
# per target. `go test` alone runs only the seed corpora. A failing input
# is written under the package's testdata/fuzz/ by Go; the script stops at
# the first failure. Usage: bash scripts/fuzz.sh [PATTERN] (PATTERN filters
# "package/Target" lines, e.g. `bash scripts/fuzz.sh api`).
set -euo pipefail
cd "$(dirname "$0")/.."
# FUZZTIME includes replaying the corpus Go cached from earlier runs
# (GOCACHE/fuzz), which for the API targets can take longer than 10 s;
# FUZZFRESH=1 empties these targets' caches first (CI starts empty anyway).
FUZZTIME="${FUZZTIME:-10}"
bash scripts/install-test-servers.sh >/dev/null
export COFFER_TESTBIN="${COFFER_TESTBIN:-$HOME/.cache/coffer/testbin}"

# package target [go test flags]. The API targets run a whole coffer
# (service, catalog, MinIO) per fuzz worker: one worker is enough on small
# machines, and an input that creates a vault takes a second or more, so
# they minimise new inputs for only a few runs.
TARGETS=(
	"./internal/auth FuzzVerify"
	"./internal/auth FuzzParseAuthorization"
	"./internal/schedule FuzzParseNext"
	"./internal/vocab FuzzARN"
	"./internal/vocab FuzzBounds"
	"./internal/vocab FuzzBucketName"
	"./internal/restore FuzzItems"
	"./internal/recpoint FuzzReader"
	"./internal/s3events FuzzParse"
	"./internal/s3source/s3xml FuzzParseVersionsPage"
	"./internal/api FuzzAPI -parallel=1 -fuzzminimizetime=3x"
	"./internal/api FuzzAPIFields -parallel=1 -fuzzminimizetime=3x"
)

summary=()
for line in "${TARGETS[@]}"; do
	read -r pkg target flags <<<"$line"
	[[ -n "${1:-}" && "$pkg/$target" != *"$1"* ]] && continue
	if [[ "${FUZZFRESH:-}" == 1 ]]; then
		rm -rf "$(go env GOCACHE)/fuzz/github.com/cofferbackup/coffer/${pkg#./}/$target"
	fi
	log="$(mktemp)"
	echo "== $pkg $target (${FUZZTIME}s)"
	# Minimising each new input for at most 50 runs (not Go's default of a
	# minute) keeps workers fuzzing instead of shrinking inputs.
	# shellcheck disable=SC2086
	if ! go test -run '^$' -fuzz "^${target}\$" -fuzztime "${FUZZTIME}s" -fuzzminimizetime 50x $flags "$pkg" >"$log" 2>&1; then
		grep -v ' INFO ' "$log" | tail -40
		echo "FAIL: $pkg $target (the failing input is under $pkg/testdata/fuzz/$target)"
		exit 1
	fi
	# The last progress line; none if the baseline (the cached corpus) took
	# the whole time.
	execs="$(grep -o 'execs: [0-9]*' "$log" | tail -1 | cut -d' ' -f2 || true)"
	summary+=("$(printf '%-22s %-24s %10s execs' "$pkg" "$target" "${execs:-0}")")
	rm -f "$log"
done
echo
printf '%s\n' "${summary[@]}"
