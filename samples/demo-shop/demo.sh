#!/usr/bin/env bash
# The demo of the plugin foundation: the shop "Thời Trang Mây"'s first plugins, run in the
# same sandbox the server uses. `cargo xtask demo` builds everything and runs this.
#   LOA: path of the loa binary (set by xtask).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
loa="${LOA:-loa}"

# A stand-in for the shop's order API: static JSON files under order-api/, on loopback.
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
python3 -m http.server "$port" --bind 127.0.0.1 --directory "$here/order-api" >/dev/null 2>&1 &
api_pid=$!
# A throwaway data dir for the catalog: the demo tenant with its products imported.
data="$(mktemp -d)"
trap 'kill "$api_pid" 2>/dev/null || true; rm -rf "$data"' EXIT
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

"$loa" --data-dir "$data" tenant apply "$here/shop.toml" >/dev/null
step "The shop's products, imported for its tenant" \
  "$loa" --data-dir "$data" catalog import "$here/products.json" --tenant may

step "A customer looks for a linen shirt, typed without accents (tool plugin catalog)" \
  "$loa" --data-dir "$data" plugin run "$root/plugins/catalog" --tenant may \
  --call search_products --args '{"query":"ao so mi linen","size":"M","colour":"trang"}'

step "Is it still there in M, white?" \
  "$loa" --data-dir "$data" plugin run "$root/plugins/catalog" --tenant may \
  --call check_stock --args '{"product_id":"sm-linen-01","size":"M","colour":"trắng"}'

step "Shipping it to Đà Nẵng" \
  "$loa" --data-dir "$data" plugin run "$root/plugins/catalog" --tenant may \
  --call shipping_fee --args '{"province":"Đà Nẵng","order_total":450000}'

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
