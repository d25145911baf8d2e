#!/usr/bin/env bash
# setup.sh: install what is missing (Debian 12, as root), build, then run or test tutti.
#
#   bash scripts/setup.sh run [tutti args...]   build and start the bridge (embedded defaults)
#   bash scripts/setup.sh test [ctest args...]  build and run the whole test suite
#   bash scripts/setup.sh test-asan [args...]   the same under AddressSanitizer + UBSan
#   bash scripts/setup.sh deps                  only install the Debian packages
#
# Idempotent: packages already installed are not touched, builds are incremental.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$here"
jobs=$(nproc 2>/dev/null || echo 2)

as_root() {
	if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

stop_system_prosody() {
	if pgrep -u prosody -f /usr/bin/prosody >/dev/null 2>&1; then
		echo "setup: stopping the system prosody that apt started (the tests run their own)"
		as_root service prosody stop >/dev/null 2>&1 || as_root prosodyctl stop >/dev/null 2>&1 || true
	fi
}

# Debian's coturn leaves its service off (TURNSERVER_ENABLED in /etc/default/coturn), but a
# systemd machine may start it at installation: e2e_turn starts its own turnserver.
stop_system_coturn() {
	if pgrep -u turnserver -x turnserver >/dev/null 2>&1; then
		echo "setup: stopping the system coturn that apt started (e2e_turn runs its own)"
		as_root service coturn stop >/dev/null 2>&1 || true
	fi
}

# Debian's prometheus starts a server on :9090 on hosts with an init system; the tests use
# only its promtool. Stopped after the install (as prosody) rather than kept from starting
# with a policy-rc.d: that file would hold back every other package's service for as long
# as the install runs, on a machine other sessions share.
stop_system_prometheus() {
	if pgrep -u prometheus -x prometheus >/dev/null 2>&1; then
		echo "setup: stopping the system prometheus that apt started (the tests need only promtool)"
		as_root service prometheus stop >/dev/null 2>&1 || true
	fi
}

# Debian's kamailio enables its service (SIP on every address, port 5060) on hosts with an
# init system; the front-door test starts its own kamailio with docs/kamailio/tutti.cfg.
stop_system_kamailio() {
	if pgrep -x kamailio >/dev/null 2>&1 && [ -f /run/kamailio/kamailio.pid ]; then
		echo "setup: stopping the system kamailio that apt started (the tests run their own)"
		as_root service kamailio stop >/dev/null 2>&1 || true
	fi
}

install_deps() {
	local want=() missing=()
	mapfile -t want < <(sed -e 's/#.*//' -e 's/[[:space:]]//g' scripts/debian-packages.txt | grep -v '^$')
	for p in "${want[@]}"; do
		if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
			missing+=("$p")
		fi
	done
	if [ ${#missing[@]} -gt 0 ]; then
		echo "setup: installing ${missing[*]}"
		as_root apt-get update -qq
		as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
		# prosody is for the tests, which start their own unprivileged one on free
		# ports; the system service its installation may have started is not wanted.
		if printf '%s\n' "${missing[@]}" | grep -qx prosody; then
			stop_system_prosody
		fi
		if printf '%s\n' "${missing[@]}" | grep -qx coturn; then
			stop_system_coturn
		fi
		if printf '%s\n' "${missing[@]}" | grep -qx prometheus; then
			stop_system_prometheus
		fi
		if printf '%s\n' "${missing[@]}" | grep -qx kamailio; then
			stop_system_kamailio
		fi
	fi
	# Debian's npm conflicts with nodejs from other sources (which bring their own npm), so
	# it is not in the package list: install it only when there is no npm at all.
	if [ -f tests/e2e/package.json ] && ! command -v npm >/dev/null; then
		as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends npm
	fi
	if [ -f tests/e2e/package.json ] && command -v npm >/dev/null; then
		(cd tests/e2e && { [ -d node_modules ] || npm ci --no-audit --no-fund --silent; })
	fi
}

build() { # build DIR [cmake args...]
	local dir=$1
	shift
	cmake -S . -B "$dir" -DTT_WERROR=ON "$@" >"$dir.configure.log" 2>&1 ||
		{ cat "$dir.configure.log"; exit 1; }
	cmake --build "$dir" -j "$jobs"
}

cmd=${1:-}
[ $# -gt 0 ] && shift
case "$cmd" in
deps)
	install_deps
	;;
run)
	install_deps
	build build
	exec build/tutti "$@"
	;;
test)
	install_deps
	build build
	ctest --test-dir build --output-on-failure "$@"
	;;
test-asan)
	install_deps
	build build-asan -DTT_SANITIZE=address,undefined -DTT_BENCH=OFF
	ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0} \
	LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$here/tests/lsan.supp:print_suppressions=0} \
	UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
		ctest --test-dir build-asan --output-on-failure "$@"
	;;
*)
	sed -n '2,10p' "$0"
	exit 2
	;;
esac
