#!/bin/sh
# check_media_oneway.sh SOURCE_DIR: the media side calls one way. bridge/media/ reaches rooms
# and gateways only through the callbacks the core gives it (bridge/media/media.h), so no
# file there may include, directly or through other headers of ours, a room, gateway,
# core or participant-internal header, nor touch a participant's room or gateway.
set -u
src=${1:?usage: check_media_oneway.sh SOURCE_DIR}
cd "$src" || exit 2

# resolve NAME as included from FILE, like the build's include path; nothing if external
resolve() {
	case $2 in
	tutti/*) [ -f "include/$2" ] && echo "include/$2"; return ;;
	esac
	for d in "$(dirname "$1")" bridge base include mixer transport; do
		if [ -f "$d/$2" ]; then
			echo "$d/$2" | sed 's|^\./||'
			return
		fi
	done
}

seen=$(mktemp)
todo=$(mktemp)
trap 'rm -f "$seen" "$todo"' EXIT
ls bridge/media/*.c bridge/media/*.h >"$todo"
fail=0
while [ -s "$todo" ]; do
	f=$(head -n 1 "$todo")
	sed -i 1d "$todo"
	grep -qxF "$f" "$seen" && continue
	echo "$f" >>"$seen"
	incs=$(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*["<]\([^">]*\)[">].*/\1/p' "$f")
	for inc in $incs; do
		r=$(resolve "$f" "$inc")
		[ -n "$r" ] || continue
		case $r in
		bridge/room/* | bridge/gateway/* | include/tutti/gateway.h | bridge/core/* | \
		bridge/participant/participant.h | bridge/http/* | bridge/textbus/*)
			echo "FAIL: $f includes $r" >&2
			fail=1
			;;
		esac
		echo "$r" >>"$todo"
	done
done
if grep -nE -e '->(room|gw|caps|destroyed|lobby)\b' -e '->(hang_up|on_dtmf)\(' \
	bridge/media/*.c bridge/media/*.h >&2; then
	echo "FAIL: bridge/media/ looks inside participants or calls gateways (above)" >&2
	fail=1
fi
[ "$fail" = 0 ] && echo "bridge/media/ and what it includes: $(wc -l <"$seen") files, one way"
exit "$fail"
