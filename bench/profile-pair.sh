#!/usr/bin/env bash
# One receiver and one sender on a lab of their own (2 guests, snooping off), each pinned to a CPU
# like `npm run bench`; prints the CPU per packet of each side over a steady window (from 1.5 s
# after the sender started, for SECONDS - 3 s; packets: the receiver guest's eth0 rx counter) and,
# with PERF=1, records the receiver's (PERFTX=1: the sender's) profile into /tmp/mcbench-profile.data.
#   sudo bash bench/profile-pair.sh RECEIVER LEN SECONDS [recv flags...]
#   RECEIVER: ref (C reference, recvmmsg x32) | refc (the same + SO_TIMESTAMPNS/SO_RXQ_OVFL) | mc (mcbench recv)
#   SENDER: the C reference sender (sendmmsg x32, unlimited; SENDMODE=gso: its UDP GSO mode, which
#   outruns any per-datagram receiver); MCSEND=1: mcbench send -b 0 (MCSENDFLAGS: more of its flags)
# e.g. sudo bash bench/profile-pair.sh mc 64 8 --coalesce 500
# Traffic stays in the lab's namespaces; the lab is removed on every exit (trap).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
T=$1 L=$2 S=$3; shift 3
[ "$S" -ge 5 ] || { echo "SECONDS: 5 or more" >&2; exit 2; }
REF=$ROOT/bench/build/reference MC=$ROOT/dist/cli.js LAB=prof P=$((6000 + RANDOM % 1000)) OUT=$(mktemp -d)
[ -x "$REF" ] || { echo "build the C reference first: npm run bench -- --smoke (or cc -O2 -o bench/build/reference bench/reference.c)" >&2; exit 2; }
cleanup() { jobs -p | xargs -r kill 2>/dev/null || true; node "$MC" lab down -n $LAB >/dev/null 2>&1 || true; rm -rf "$OUT"; }
trap cleanup EXIT INT TERM
node "$MC" lab up -n $LAB --snooping 0 >/dev/null
G1=mcb-$LAB-g1 G2=mcb-$LAB-g2
A1=$(ip -n $G1 -4 -o addr show dev eth0 | awk '{print $4}' | cut -d/ -f1)
A2=$(ip -n $G2 -4 -o addr show dev eth0 | awk '{print $4}' | cut -d/ -f1)
GROUP=239.255.77.1
case $T in
  ref) R=("$REF" recv $GROUP $P "$A2" $((S + 20)) mmsg 26214400) ;;
  refc) R=("$REF" recv $GROUP $P "$A2" $((S + 20)) cmsg 26214400) ;;
  mc) R=(node "$MC" recv -g $GROUP -p $P -I eth0 --rcvbuf 25M --rcvbuf-force -t $((S + 20)) --idle-timeout 1 -q --json "$OUT/r.json" "$@") ;;
  *) echo "RECEIVER: ref, refc or mc" >&2; exit 2 ;;
esac
SEND=("$REF" send $GROUP $P "$A1" "$L" "$S" "${SENDMODE:-mmsg}")
[ "${MCSEND:-0}" = 1 ] && SEND=(node "$MC" send -g $GROUP -p $P -I eth0 -b 0 -l "$L" -t "$S" -q --json "$OUT/s.json" ${MCSENDFLAGS:-})
ip netns exec $G2 taskset -c 1 "${R[@]}" >"$OUT/rx.out" 2>&1 &
RP=$!
sleep 1.5
ip netns exec $G1 taskset -c 0 "${SEND[@]}" >"$OUT/tx.out" 2>&1 &
TP=$!
sleep 1.5
# the processes ip netns exec started (taskset execs its command)
RPID=$(pgrep -f "recv (-g )?$GROUP (-p )?$P" | tail -1)
TPID=$(pgrep -f "send (-g )?$GROUP (-p )?$P" | tail -1)
W=$((S - 3))
if [ "${PERF:-0}" = 1 ]; then
  PP=$RPID; [ "${PERFTX:-0}" = 1 ] && PP=$TPID
  perf record -F 4000 -g -p "$PP" -o /tmp/mcbench-profile.data -- sleep $W >/dev/null 2>&1 &
fi
ticks() { for t in /proc/$1/task/*; do cut -d')' -f2 "$t/stat" | awk '{s += $12 + $13} END {print s}'; done | awk '{s += $1} END {print s}'; }
rxpk() { ip netns exec $G2 cat /proc/net/dev | awk -F: '/eth0:/{split($2, f, " "); print f[2]}'; }
P0=$(rxpk) R0=$(ticks "$RPID") S0=$(ticks "$TPID")
sleep $W
P1=$(rxpk) R1=$(ticks "$RPID") S1=$(ticks "$TPID")
wait $TP || true
wait $RP || true
HZ=$(getconf CLK_TCK)
awk -v p=$((P1 - P0)) -v r=$((R1 - R0)) -v s=$((S1 - S0)) -v w=$W -v hz="$HZ" -v t="$T" -v l="$L" 'BEGIN {
  printf "%s %s B: %d packets in %d s (%.0f pps); receiver %.3f us/packet, sender %.3f us/packet\n", t, l, p, w, p / w, r / hz / p * 1e6, s / hz / p * 1e6 }'
[ -f "$OUT/r.json" ] && node -e 'const e = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).end; console.log(`  mcbench recv: ${e.sum.packets} packets, lost ${e.sum.lost_packets}, ${e.recv_calls} reads, socket_queue p50 ${e.latency.socket_queue?.p50_ms} ms, coalesce ${JSON.stringify(e.coalesce ?? null)}`)' "$OUT/r.json"
exit 0
