#!/bin/sh
# tests/fuzz/run-fuzzers.sh: run the pam_ropc libFuzzer targets, print TAP.
#
#   run-fuzzers.sh [--no-build] BUILDDIR [SECONDS]
#       Fuzz each target for SECONDS (default $FUZZ_SECONDS, else 60) on a
#       fresh copy of its seed corpus (BUILDDIR/tests/fuzz/corpus-run/T),
#       with its dictionary (tests/fuzz/T.dict) when there is one.  After
#       each run: one line "fuzz T: N execs, M s, K corpus units, C crashes"
#       and a TAP line.  A crash, leak, timeout (-timeout=10), memory blow-up
#       (-rss_limit_mb=2048) or broken invariant fails the target; the
#       reproducer is in BUILDDIR/tests/fuzz/artifacts/T/ (copy it to
#       tests/fuzz/regressions/T/ once understood) and the whole libFuzzer
#       output in BUILDDIR/tests/fuzz/logs/T.log.
#   run-fuzzers.sh --regress [--no-build] BUILDDIR
#       Run each target once over tests/fuzz/corpus/T/ and
#       tests/fuzz/regressions/T/ (no fuzzing; a few seconds).
#
# Without --no-build, `make -C BUILDDIR fuzz-build` is run first (clang).
# Exit status: 0 when every target passed.  POSIX sh.

set -u

usage() {
	echo "usage: $0 [--regress] [--no-build] BUILDDIR [SECONDS]" >&2
	exit 2
}

regress=0
build=1
while [ $# -gt 0 ]; do
	case $1 in
	--regress) regress=1; shift ;;
	--no-build) build=0; shift ;;
	--) shift; break ;;
	-*) usage ;;
	*) break ;;
	esac
done
[ $# -ge 1 ] || usage
seconds=${2:-${FUZZ_SECONDS:-60}}
case $seconds in
''|*[!0-9]*) echo "$0: SECONDS must be a whole number" >&2; exit 2 ;;
esac

here=$(cd "$(dirname "$0")" && pwd) || exit 2
if ! builddir=$(cd "$1" 2>/dev/null && pwd); then
	echo "1..1"
	echo "not ok 1 - fuzz: no build directory $1"
	exit 1
fi

# The targets: every tests/fuzz/fuzz-*.c but the shared code.
targets=
for f in "$here"/fuzz-*.c; do
	t=$(basename "$f" .c)
	[ "$t" = fuzz-common ] && continue
	targets="$targets $t"
done

out=$builddir/tests/fuzz
mkdir -p "$out/logs"

if [ $build = 1 ]; then
	if ! make -C "$builddir" fuzz-build >"$out/logs/build.log" 2>&1; then
		echo "1..1"
		echo "not ok 1 - fuzz: make fuzz-build failed (CLANG=${CLANG:-clang})"
		tail -n 30 "$out/logs/build.log" | sed 's/^/# /'
		exit 1
	fi
fi

# -max_len per target: large enough for every seed, small enough to be fast.
max_len() {
	case $1 in
	fuzz-response) echo 40000 ;;
	fuzz-config) echo 4096 ;;
	fuzz-form) echo 2048 ;;
	fuzz-sanitize) echo 1024 ;;
	fuzz-jws) echo 17000 ;;         # past the 16 KiB token cap
	fuzz-jwks) echo 70000 ;;        # past the 64 KiB key set cap
	fuzz-claims) echo 8192 ;;
	*) echo 4096 ;;
	esac
}

# Sanitizer reports with stacks; the options of the caller win.
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:symbolize=1:detect_stack_use_after_return=1}
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export ASAN_OPTIONS UBSAN_OPTIONS

# The sanitizer report of a failed run, as TAP comments: from the first
# report line on, without libFuzzer's progress lines.
show_failure() {
	if grep -q -E '^==[0-9]+==|^==FUZZ==|runtime error:' "$1"; then
		sed -n -E '/^==[0-9]+==|^==FUZZ==|runtime error:/,$p' "$1" |
			grep -v -E '^#[0-9]+[[:space:]]|^INFO: |^[[:space:]]*$' |
			head -n 60 | sed 's/^/# /'
	else
		tail -n 30 "$1" | sed 's/^/# /'
	fi
}

n=0
fails=0
count=0
for t in $targets; do
	count=$((count + 1))
done
echo "1..$count"
for t in $targets; do
	n=$((n + 1))
	bin=$out/$t
	log=$out/logs/$t.log
	if [ ! -x "$bin" ]; then
		echo "not ok $n - fuzz $t: $bin not built (make fuzz-build)"
		fails=$((fails + 1))
		continue
	fi

	if [ $regress = 1 ]; then
		set --
		for d in "$here/corpus/$t" "$here/regressions/$t"; do
			[ -d "$d" ] && set -- "$@" "$d"
		done
		inputs=0
		[ $# -gt 0 ] && inputs=$(find "$@" -type f | wc -l)
		if [ "$inputs" -eq 0 ]; then
			echo "not ok $n - fuzz-regress $t: no seed corpus or regressions"
			fails=$((fails + 1))
			continue
		fi
		start=$(date +%s)
		find "$@" -type f -exec "$bin" -timeout=10 -rss_limit_mb=2048 \
			-detect_leaks=1 {} + >"$log" 2>&1
		rc=$?
		secs=$(($(date +%s) - start))
		if [ $rc -eq 0 ]; then
			echo "ok $n - fuzz-regress $t: $inputs inputs, ${secs} s"
		else
			echo "not ok $n - fuzz-regress $t: exit $rc on $inputs inputs (log: $log)"
			show_failure "$log"
			fails=$((fails + 1))
		fi
		continue
	fi

	run=$out/corpus-run/$t
	art=$out/artifacts/$t
	rm -rf "$run"
	mkdir -p "$run" "$art"
	if [ -d "$here/corpus/$t" ]; then
		find "$here/corpus/$t" -type f -exec cp {} "$run/" \;
	fi
	# Every crash found so far is replayed first: it must stay fixed.
	if [ -d "$here/regressions/$t" ]; then
		find "$here/regressions/$t" -type f -exec cp {} "$run/" \;
	fi
	set --
	[ -f "$here/$t.dict" ] && set -- "-dict=$here/$t.dict"
	start=$(date +%s)
	"$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
		-detect_leaks=1 -max_len="$(max_len "$t")" -print_final_stats=1 \
		-artifact_prefix="$art/" "$@" "$run" >"$log" 2>&1
	rc=$?
	secs=$(($(date +%s) - start))
	execs=$(sed -n 's/^stat::number_of_executed_units:[[:space:]]*//p' "$log" | tail -n 1)
	rate=$(sed -n 's/^stat::average_exec_per_sec:[[:space:]]*//p' "$log" | tail -n 1)
	rss=$(sed -n 's/^stat::peak_rss_mb:[[:space:]]*//p' "$log" | tail -n 1)
	units=$(find "$run" -type f | wc -l)
	crashes=$(grep -c 'Test unit written to' "$log")
	[ $rc -ne 0 ] && [ "$crashes" -eq 0 ] && crashes=1
	echo "# fuzz $t: ${execs:-0} execs, $secs s, $units corpus units, $crashes crashes"
	if [ $rc -eq 0 ]; then
		echo "ok $n - fuzz $t: ${execs:-0} execs in $secs s (${rate:-?} exec/s), $units corpus units, peak ${rss:-?} MB"
	else
		unit=$(sed -n 's/.*Test unit written to //p' "$log" | tail -n 1)
		echo "not ok $n - fuzz $t: exit $rc after ${execs:-0} execs; reproducer: ${unit:-none} (log: $log)"
		show_failure "$log"
		fails=$((fails + 1))
	fi
done
[ $fails -eq 0 ]
