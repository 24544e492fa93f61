#!/usr/bin/env bash
# The demo of the plugin foundation: the shop "Thời Trang Mây"'s two first plugins, run in
# the same sandbox the server uses. `cargo xtask demo` builds everything and runs this.
#   LOA: path of the loa binary (set by xtask).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
loa="${LOA:-loa}"

# A stand-in for the shop's order API: static JSON files under order-api/, on loopback.
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
python3 -m http.server "$port" --bind 127.0.0.1 --directory "$here/order-api" >/dev/null 2>&1 &
api_pid=$!
trap 'kill "$api_pid" 2>/dev/null || true' EXIT
for _ in $(seq 50); do
  python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 0.2)" 2>/dev/null && break
  sleep 0.1
done

step() { printf '\n\033[1m== %s\033[0m\n$ %s\n' "$1" "${*:2}"; "${@:2}" || true; }

step "A customer asks where order A123 is (tool plugin order-status)" \
  "$loa" plugin run "$root/plugins/order-status" --call get_order_status --args '{"order_id":"A123"}' \
  --config "api_base_url=http://127.0.0.1:$port" --config api_key=demo-key \
  --grant 127.0.0.1 --allow-private-network

step "An order that does not exist" \
  "$loa" plugin run "$root/plugins/order-status" --call get_order_status --args '{"order_id":"Z999"}' \
  --config "api_base_url=http://127.0.0.1:$port" --config api_key=demo-key \
  --grant 127.0.0.1 --allow-private-network

step "Outside opening hours (middleware business-hours; hours set to 03:00-04:00 so the demo shows the reply)" \
  "$loa" plugin run "$root/plugins/business-hours" --inbound "Shop ơi áo linen còn size M không?" \
  --config "hours=daily 03:00-04:00" --config "utc_offset=+07:00"

step "The same, for a conversation in English" \
  "$loa" plugin run "$root/plugins/business-hours" --inbound "Do you have the linen shirt in M?" \
  --config "hours=daily 03:00-04:00" --config "utc_offset=+07:00" --locale en

step "The same shop, open around the clock: the message goes on to the bot" \
  "$loa" plugin run "$root/plugins/business-hours" --inbound "Shop ơi áo linen còn size M không?" \
  --config "hours=daily 00:00-24:00"

step "A hostile plugin (endless loop) fails its own call, nothing else" \
  "$loa" plugin run "$root/tests/plugins/infinite-loop" --call spin --args '{}'

step "What a plugin is made of" "$loa" plugin inspect "$root/plugins/order-status"
