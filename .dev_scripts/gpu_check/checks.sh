#!/usr/bin/env bash
# The GPU checks of docs/benchmarks.md#gpu, each under its own time limit;
# tables to $OUT/<name>.md (default work_dirs/gpu_check), stderr beside them.
OUT=${OUT:-work_dirs/gpu_check}
mkdir -p "$OUT"
t() {
    local limit=$1 name=$2
    shift 2
    echo "== $name: $*"
    local t0
    t0=$(date +%s)
    timeout "$limit" "$@" >"$OUT/$name.md" 2>"$OUT/$name.err"
    echo "== $name rc=$? $(($(date +%s) - t0)) s"
}
t 240 gpu_check python3 -m benchmarks.gpu_check --device cuda --min-run-time 2
t 70 distill_step_cityscapes python3 -m benchmarks.distill_step --device cuda --setting cityscapes --min-run-time 2
t 50 distill_step_camvid python3 -m benchmarks.distill_step --device cuda --setting camvid --min-run-time 2
t 50 released_icsd_loss python3 -m benchmarks.released_icsd_loss --device cuda --min-run-time 1
t 90 icsd_loss python3 -m benchmarks.icsd_loss --device cuda --min-run-time 1 --plot "$OUT/icsd_scaling_cuda.png"
