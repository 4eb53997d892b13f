#!/usr/bin/env bash
# Network tests between two network namespaces, each running the project's peer program
# (core/examples/peer.rs) in local mode (no relays, no internet lookup, mDNS on):
#   1. pairing by ticket across the link;
#   2. "phones meet": both forget each other's addresses and find each other by mDNS alone;
#   3. 20% random packet loss both ways (nftables), both partners edited offline: converge;
#   4. the link is cut mid-sync and restored: converge, nothing lost or duplicated.
# Needs root and `ip netns`. With CI set, a missing capability fails the run; elsewhere the
# tests are skipped with the reason.
set -uo pipefail
cd "$(dirname "$0")/../.."

skip_or_fail() {
  if [ -n "${CI:-}" ]; then
    echo "netns: cannot run: $1"
    echo "0 passed, 1 failed"
    exit 1
  fi
  echo "netns: skipped: $1"
  exit 0
}

[ "$(id -u)" = 0 ] || skip_or_fail "needs root for network namespaces"
command -v ip >/dev/null || skip_or_fail "iproute2 (ip) is not installed"
if ! command -v nft >/dev/null; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nftables) >/dev/null 2>&1 \
    || skip_or_fail "nftables could not be installed"
fi

cargo build -q --workspace --examples || { echo "0 passed, 1 failed"; exit 1; }
PEER="${CARGO_TARGET_DIR:-target}/debug/examples/peer"

S="$$"
NS1="accA$S"; NS2="accB$S"; V1="vA$S"; V2="vB$S"
WORK="$(mktemp -d)"
PIDS=()
cleanup() {
  for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  ip netns del "$NS1" 2>/dev/null
  ip netns del "$NS2" 2>/dev/null
  ip link del "$V1" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

ip netns add "$NS1" && ip netns add "$NS2" || skip_or_fail "network namespaces cannot be made here"
ip link add "$V1" type veth peer name "$V2" || skip_or_fail "veth pairs cannot be made here"
ip link set "$V1" netns "$NS1"; ip link set "$V2" netns "$NS2"
ip -n "$NS1" addr add 10.231.7.1/24 dev "$V1"; ip -n "$NS2" addr add 10.231.7.2/24 dev "$V2"
for ns in "$NS1" "$NS2"; do ip -n "$ns" link set lo up; done
ip -n "$NS1" link set "$V1" up; ip -n "$NS2" link set "$V2" up
# mDNS needs a route for multicast in each namespace.
ip -n "$NS1" route add default dev "$V1"; ip -n "$NS2" route add default dev "$V2"

A="$WORK/alex"; B="$WORK/sam"
in1() { ip netns exec "$NS1" "$PEER" "$@"; }
in2() { ip netns exec "$NS2" "$PEER" "$@"; }
serve_a() { ip netns exec "$NS1" "$PEER" serve "$A" "$@" >>"$WORK/serve.log" 2>&1 & SERVE=$!; PIDS+=("$SERVE"); sleep 0.5; }
stop_a() { kill "$SERVE" 2>/dev/null; wait "$SERVE" 2>/dev/null; }
summary_equal() {
  local a b; a="$(in1 summary "$A")"; b="$(in2 summary "$B")"
  [ "$a" = "$b" ] && [ "${a##* }" = "$1" ] || { echo "  alex: $a"; echo "  sam:  $b"; echo "  expected $1 agreements"; return 1; }
}
passed=0; failed=0
check() { if "$@"; then passed=$((passed+1)); echo "ok   $NAME"; else failed=$((failed+1)); echo "FAIL $NAME"; fi; }

NAME="pairing by ticket across the link"
pair() {
  in1 create "$A" Alex || return 1
  serve_a --invite partner --ticket-file "$WORK/ticket"
  for _ in $(seq 50); do [ -s "$WORK/ticket" ] && break; sleep 0.1; done
  in2 join "$B" "$WORK/ticket" Sam || { stop_a; return 1; }
  stop_a
  summary_equal 0
}
check pair

NAME="phones meet: discovery by mDNS with no address given"
meet() {
  in1 add "$A" alex 20 && in2 add "$B" sam 20 || return 1
  in1 forget "$A"; in2 forget "$B"
  serve_a
  # As in the tests below, a sync whose connection drops is tried again (seen once in CI:
  # the serving side lost the connection mid-session and this side waited out its timeout).
  local ok=1
  for attempt in 1 2 3; do
    if in2 sync "$B" 30 >"$WORK/meet.out" 2>&1; then ok=0; break; fi
    echo "  attempt $attempt: sync: $(tail -c 600 "$WORK/meet.out")"
    echo "  serve: $(tail -c 400 "$WORK/serve.log")"
  done
  stop_a
  [ $ok = 0 ] && summary_equal 40
}
check meet

NAME="20% packet loss both ways"
lossy() {
  for ns in "$NS1" "$NS2"; do
    ip netns exec "$ns" nft add table inet loss &&
    ip netns exec "$ns" nft add chain inet loss input '{ type filter hook input priority 0; }' &&
    ip netns exec "$ns" nft add rule inet loss input numgen random mod 100 '<' 20 drop || return 1
  done
  in1 add "$A" alex2 30 && in2 add "$B" sam2 30 || return 1
  serve_a
  local ok=1
  for _ in 1 2 3; do in2 sync "$B" 60 >/dev/null && { ok=0; break; }; done
  stop_a
  for ns in "$NS1" "$NS2"; do ip netns exec "$ns" nft delete table inet loss; done
  [ $ok = 0 ] && summary_equal 100
}
check lossy

NAME="link cut mid-sync, restored: nothing lost or duplicated"
cut() {
  in1 add "$A" bulk 300 || return 1
  serve_a
  ip netns exec "$NS2" "$PEER" sync "$B" 20 >/dev/null 2>&1 & local first=$!
  sleep 0.3
  ip -n "$NS1" link set "$V1" down
  sleep 2
  ip -n "$NS1" link set "$V1" up
  ip -n "$NS1" route add default dev "$V1" 2>/dev/null
  wait "$first"
  local ok=1
  for _ in 1 2 3; do in2 sync "$B" 60 >/dev/null && { ok=0; break; }; done
  stop_a
  [ $ok = 0 ] && summary_equal 400
}
check cut

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
