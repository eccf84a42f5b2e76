#!/bin/sh
# fcnn --bench prints every figure a speed claim rests on, and its arithmetic holds: the
# epoch time is the training rate's, the FLOP floor is taken at the largest peak it printed,
# the floor's seconds and ratio follow from the printed FLOPs, peak and epoch, and the ops
# table adds up to its sum line. On ref always, and on OpenCL where this build and machine
# have a device. Nothing here is timed: only what the figures say of each other.
set -u
. "${srcdir:-.}/tests/lib.sh" || exit 99
require_data
export XDG_CACHE_HOME="$tmp/cache"
# OpenBLAS (the host's peak) on one thread: its thread pool would outlive the measurement,
# and LeakSanitizer, which stops every thread at exit, has crashed on such threads in the
# sanitizer build. The checks are of the figures' arithmetic, not of the peak's value.
export OPENBLAS_NUM_THREADS=1
# Two convolutions: about 1.6 MFLOP per training image, so that the floor's seconds are
# large enough for the checks below to hold them to a few percent.
model="conv2d(8,3,padding=same) maxpool(2) conv2d(16,3,padding=same) maxpool(2) flatten dense(10)"

# check_bench NAME FILE: the checks on one benchmark's output.
check_bench() {
  name=$1 out=$2
  for label in "warm-up:" "training:" "inference:" "latency:" "fp32 peak:" "FLOP floor:"; do
    grep -q "^  $label" "$out" || fail "$name: no '$label' line"
  done
  # awk does the arithmetic; each check allows for the rounding of the printed figures.
  awk -v name="$name" '
    function bad(what) { print "FAIL: " name ": " what; failed++ }
    /^  training:/ {
      for (i = 1; i <= NF; i++) {
        if ($i == "images/s") rate = $(i - 1)
        if ($i == "per" && $(i + 1) == "60,000-image") epoch = $(i - 2)
      }
    }
    /^  inference:/ { for (i = 1; i <= NF; i++) if ($i == "images/s") infer = $(i - 1) }
    /^  latency:/ { for (i = 1; i <= NF; i++) if ($i == "ms") latency = $(i - 1) }
    /^  fp32 peak: [0-9.]+ GFLOPS/ { peaks++; if ($3 + 0 > peak) { peak = $3 + 0; peak_text = $3 } }
    /^    sum / { sum_ms = $2; sum_share = $3; in_table = 0 }
    in_table && NF >= 6 { rows++; ms += $(NF - 3); share += $(NF - 2) }
    /^    op  *largest tensor/ { in_table = 1 }
    /^  FLOP floor:/ {
      mflop = $3
      for (i = 1; i < NF; i++) {
        if ($(i + 1) == "GFLOPS") floor_peak = $i
        if ($i == "needs") needs = $(i + 1)
        if ($i == "measured") measured = $(i + 1)
        if ($i == "=") ratio = $(i + 1)
      }
      sub(/x$/, "", ratio)
    }
    END {
      if (!(rate > 0) || !(epoch > 0)) bad("training rate or epoch missing or zero")
      else if ((epoch - 60000 / rate) ^ 2 > (0.05 + 0.005 * epoch) ^ 2)
        bad("epoch " epoch " s is not 60,000 images at " rate " images/s")
      if (!(infer > 0)) bad("inference rate missing or zero")
      if (!(latency > 0)) bad("latency missing or zero")
      if (peaks < 1) bad("no fp32 peak in GFLOPS")
      if (floor_peak != peak_text) bad("floor at " floor_peak " GFLOPS, not at the largest peak printed, " peak_text)
      if (!(mflop > 0) || !(needs > 0) || !(measured > 0) || !(ratio > 0)) {
        bad("FLOP floor line incomplete: " mflop ", " needs ", " measured ", " ratio)
      } else {
        # needs = MFLOP per image x 60,000 / peak: between the bounds the roundings allow.
        lo = (mflop - 0.05) * 6e4 / (floor_peak + 0.05) / 1e3 - 0.005
        hi = (mflop + 0.05) * 6e4 / (floor_peak - 0.05) / 1e3 + 0.005
        if (needs < lo || needs > hi) bad("floor " needs " s is not " mflop " MFLOP x 60,000 at " floor_peak " GFLOPS")
        if ((measured - epoch) ^ 2 > 0.051 ^ 2) bad("floor measured " measured " s, training line " epoch " s")
        # Both the measured seconds and the floor seconds are rounded to 0.01 s.
        lo = (measured - 0.005) / (needs + 0.005) - 0.005
        hi = (measured + 0.005) / (needs - 0.005) + 0.005
        if (ratio < lo || ratio > hi) bad("ratio " ratio "x is not " measured " s / " needs " s")
      }
      if (rows < 3) bad("ops table has " rows " rows")
      if ((ms - sum_ms) ^ 2 > (0.0006 * rows + 0.001) ^ 2) bad("ops add up to " ms " ms, sum line " sum_ms)
      if ((share - 100) ^ 2 > (0.06 * rows) ^ 2 || sum_share != "100.0%") bad("shares add up to " share "%")
      exit failed > 0
    }' "$out" || failures=$((failures + 1))
}

# OpenBLAS's kernels are the best family this CPU runs, not what an OpenBLAS older than the
# CPU falls back to (SSE3, a fourth of the AVX-512 kernels' rate): expected_kernels prints
# that family from /proc/cpuinfo, or nothing where it is not known (not x86, no cpuinfo).
expected_kernels() {
  flags=$(grep -m 1 '^flags' /proc/cpuinfo 2>/dev/null) || return 0
  has() { case " $flags " in *" $1 "*) return 0 ;; esac; return 1; }
  if has avx512f && has avx512vl && has avx512bw && has avx512dq && has avx512cd; then
    echo SkylakeX
  elif has avx2 && has fma; then
    echo Haswell
  fi
}
unset OPENBLAS_CORETYPE

"$FCNN" --backend=ref --bench --model "$model" --data "$DATA" --train-limit 512 \
  --test-limit 200 > "$tmp/ref" 2> "$tmp/ref.err" || fail "ref --bench exited $?: $(cat "$tmp/ref.err")"
check_bench ref "$tmp/ref"
if grep -q "OpenBLAS sgemm" "$tmp/ref"; then
  want=$(expected_kernels)
  [ -z "$want" ] || grep -q "OpenBLAS sgemm.*, $want kernels," "$tmp/ref" ||
    fail "OpenBLAS does not run this CPU's $want kernels: $(grep "OpenBLAS sgemm" "$tmp/ref")"
fi

# OpenCL: absent from the build or without any device, only ref is benchmarked (said on the
# log); a device that is there and fails is a failure.
check_opencl
case $opencl in
  ready)
    "$FCNN" --backend=opencl --bench --model "$model" --data "$DATA" --train-limit 512 \
      --test-limit 200 > "$tmp/opencl" 2> "$tmp/opencl.err" ||
      fail "opencl --bench exited $?: $(cat "$tmp/opencl.err")"
    check_bench opencl "$tmp/opencl" ;;
  absent) echo "no OpenCL in this build or no OpenCL device here: ref only" ;;
esac
finish bench-output
