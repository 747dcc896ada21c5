#!/usr/bin/env bash
# Start time and memory of `returns-gateway sim` for worlds of the given sizes: seconds from
# launch until its URLs are printed, the CPU time the process had used by then (user + system:
# steadier than wall time on a shared machine), and its VmRSS then (and VmHWM, its peak).
#
#   cargo build --release --bin returns-gateway
#   crates/simulators/examples/start-time.sh 540 27000 100000
#
# Run from the repository root: the demo configuration, with `returns` and a fixed `now` set by
# environment overrides, on free ports.
set -euo pipefail
bin="${BIN:-target/release/returns-gateway}"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
for returns in "${@:-540}"; do
    out="$(mktemp)"
    start=$(date +%s.%N)
    RETURNS_GATEWAY__SIM__RETURNS="$returns" RETURNS_GATEWAY__SIM__NOW="2026-06-15T09:30:00Z" \
        "$bin" sim --config config/demo.toml --any-port >"$out" 2>&1 &
    pid=$!
    # `request counts:` follows the URLs.
    until grep -q "request counts" "$out"; do
        if ! kill -0 "$pid" 2>/dev/null; then
            cat "$out"
            exit 1
        fi
        sleep 0.02
    done
    end=$(date +%s.%N)
    ticks=$(getconf CLK_TCK)
    cpu=$(awk -v t="$ticks" '{print ($14 + $15) / t}' "/proc/$pid/stat")
    rss=$(awk '/VmRSS/ {print int($2 / 1024)}' "/proc/$pid/status")
    hwm=$(awk '/VmHWM/ {print int($2 / 1024)}' "/proc/$pid/status")
    printf 'returns %7d: URLs after %6.2f s (CPU %6.2f s), VmRSS %5d MiB, VmHWM %5d MiB\n' \
        "$returns" "$(echo "$end - $start" | bc)" "$cpu" "$rss" "$hwm"
    kill "$pid"
    wait "$pid" 2>/dev/null || true
    rm -f "$out"
done
