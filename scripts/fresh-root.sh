#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# fresh-root.sh - the README's two commands on a fresh Debian 12 (bookworm),
# as CI proof (.ci/run runs it, then the conformance phase on this machine).
#
#   1. a minimal Debian 12 root (debootstrap --variant=minbase) from the
#      Debian mirror named in this machine's own apt sources; cached as a
#      tarball in ~/.cache/libp2pdma/fresh-root (rebuilt when older than
#      P2PDMA_FRESH_ROOT_MAX_DAYS, default 30), extracted anew for each run
#   2. a clean clone of the current commit (not the working tree) in /src
#   3. in the root (chroot, /proc /sys /dev bound): `bash scripts/run.sh`
#      must exit 0 and print a report; then
#      `P2PDMA_SKIP_CONFORMANCE=1 bash scripts/check.sh` must end with
#      "N passed, 0 failed, N skipped"; then scripts/failure-messages.sh
#      (each broken step of the two commands is named, with its output)
#
# Nothing is installed in the cached root: both commands install what they
# need themselves (apt-get update first, as on a fresh machine: debootstrap
# leaves no package lists). Downloaded .deb files are kept in
# ~/.cache/libp2pdma/fresh-root/apt-archives so that a warm run does not
# fetch them again.
#
# Needs root (debootstrap, chroot, mount). Reports how long each part took.
# Ends with "N passed, N failed, N skipped" (run.sh counts one; the counts
# of check.sh and failure-messages.sh in the root join) and exits non-zero
# on any failure.
# P2PDMA_DEBIAN_MIRROR overrides the mirror; P2PDMA_FRESH_ROOT_TMPFS=0|1
# puts the root on disk or in memory (auto: a tmpfs when 8 GiB are free);
# P2PDMA_FRESH_ROOT_KEEP=1 keeps the root (on disk, unmounted) for a look.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
repo=$PWD
suite=bookworm
variant=minbase
# Bump when the debootstrap command below changes: old tarballs are then
# not reused.
format=1

summary() {
	echo "$passed passed, $failed failed, $skipped skipped"
	[ "$failed" = 0 ]
	exit
}
passed=0 failed=0 skipped=0

if [ -n "${P2PDMA_IN_FRESH_ROOT:-}" ]; then
	echo "fresh-root: already inside a fresh root: not building another one"
	skipped=1
	summary
fi
die() {
	echo "fresh-root: $*" >&2
	failed=$((failed + 1))
	summary
}
[ "$(id -u)" = 0 ] || die "needs root (debootstrap, chroot, mount)"

times=()
t_all=$SECONDS
t=$SECONDS
lap() { times+=("$(printf '%-50s %4d s' "$1" $((SECONDS - t)))"); t=$SECONDS; }

echo "=== fresh-root: packages"
bash scripts/install-deps.sh fresh-root || die "installing the fresh-root packages failed: bash scripts/install-deps.sh fresh-root"
lap "host packages (install-deps fresh-root)"

# The Debian mirror of this machine's apt sources: one-line *.list entries
# and deb822 *.sources stanzas; the first "deb" entry for the bookworm
# suite, else for this host's own Debian codename (any Debian mirror
# carries every suite). Prints "URI SUITE..." lines for bookworm* suites to
# stdout, the chosen URI first.
apt_entries() {
	local f
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -f "$f" ] || continue
		awk '
			{ sub(/#.*/, "") }
			$1 != "deb" { next }
			{ i = 2 }
			$2 ~ /^\[/ { while (i <= NF && $i !~ /\]$/) i++; i++ }
			i + 1 <= NF { print $(i), $(i + 1) }
		' "$f"
	done
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		awk '
			function flush(   n, m, i, j, u, s) {
				if (types ~ /(^| )deb( |$)/ && tolower(enabled) != "no") {
					n = split(uris, u, " "); m = split(suites, s, " ")
					for (i = 1; i <= n; i++) for (j = 1; j <= m; j++) print u[i], s[j]
				}
				types = uris = suites = ""; enabled = "yes"; field = ""
			}
			BEGIN { enabled = "yes" }
			/^#/ { next }
			/^[ \t]*$/ { flush(); next }
			/^[ \t]/ { if (field == "uris") uris = uris " " $0
			           else if (field == "suites") suites = suites " " $0
			           next }
			{
				field = tolower($0); sub(/:.*/, "", field)
				v = $0; sub(/^[^:]*:[ \t]*/, "", v)
				if (field == "types") types = v
				else if (field == "uris") uris = v
				else if (field == "suites") suites = v
				else if (field == "enabled") enabled = v
			}
			END { flush() }
		' "$f"
	done
}
entries=$(apt_entries)
host_codename=$(. /etc/os-release 2>/dev/null; [ "${ID:-}" = debian ] && echo "${VERSION_CODENAME:-}")
mirror=${P2PDMA_DEBIAN_MIRROR:-}
if [ -z "$mirror" ]; then
	mirror=$(awk -v s="$suite" '$2 == s { print $1; exit }' <<<"$entries")
	[ -n "$mirror" ] || [ -z "$host_codename" ] ||
		mirror=$(awk -v s="$host_codename" '$2 == s { print $1; exit }' <<<"$entries")
fi
[ -n "$mirror" ] || die "no Debian mirror for '$suite' in /etc/apt/sources.list{,.d/*.list,.d/*.sources}; set P2PDMA_DEBIAN_MIRROR"
mirror=${mirror%/}
echo "fresh-root: Debian mirror $mirror${P2PDMA_DEBIAN_MIRROR:+ (P2PDMA_DEBIAN_MIRROR)}"
# The root's own sources: this mirror for bookworm and bookworm-updates, and
# the host's security mirror if it has one for bookworm-security.
root_sources="deb $mirror $suite main
deb $mirror $suite-updates main"
security=$(awk -v s="$suite-security" '$2 == s { print $1; exit }' <<<"$entries")
[ -z "$security" ] || root_sources+="
deb ${security%/} $suite-security main"

arch=$(dpkg --print-architecture)
cache=${XDG_CACHE_HOME:-$HOME/.cache}/libp2pdma/fresh-root
mkdir -p "$cache/apt-archives/partial" || die "cannot create $cache"
tarball=$cache/debian-$suite-$variant-$arch-v$format.tar.gz
max_days=${P2PDMA_FRESH_ROOT_MAX_DAYS:-30}

# Work area; the root is extracted there. Left-overs of runs that died are
# removed first unless something is still mounted in them.
mounted_below() { awk -v d="$1/" 'index($5 "/", d) == 1 { found = 1 } END { exit !found }' /proc/self/mountinfo; }
for old in "$cache"/run.*; do
	[ -d "$old" ] || continue
	pid=${old##*.}
	kill -0 "$pid" 2>/dev/null && continue
	if mounted_below "$old"; then
		echo "fresh-root: leaving $old alone: something is still mounted in it"
	else
		rm -rf "$old"
	fi
done
work=$cache/run.$$
root=$work/root
mounts=()
child='' tailpid=''
# Processes still running in the root (a step that timed out or was
# interrupted) hold its mounts: end them, by pid, then unmount.
unmount_all() {
	local i p
	[ -z "$tailpid" ] || kill "$tailpid" 2>/dev/null
	find /proc/[0-9]*/root -maxdepth 0 -lname "$root" -printf '%h\n' 2>/dev/null |
		while read -r p; do kill -9 "${p#/proc/}" 2>/dev/null; done
	for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do
		umount -R "${mounts[i]}" 2>/dev/null || umount -R -l "${mounts[i]}" 2>/dev/null ||
			echo "fresh-root: cannot unmount ${mounts[i]}" >&2
	done
	mounts=()
	# And whatever else is mounted below the work area (debootstrap mounts
	# /proc and /sys in the root while it runs), deepest first.
	awk -v d="$work/" 'index($5 "/", d) == 1 { print $5 }' /proc/self/mountinfo | sort -r |
		while read -r i; do umount -l "$i" 2>/dev/null; done
}
remove_work() {
	if mounted_below "$work"; then
		echo "fresh-root: something is still mounted below $work: not removing it" >&2
	elif [ "${P2PDMA_FRESH_ROOT_KEEP:-0}" = 1 ]; then
		echo "fresh-root: root kept in $root"
	else
		rm -rf "$work"
	fi
}
trap 'unmount_all; remove_work' EXIT
# A signal stops the step running in the root (its timeout forwards it to
# the whole step), then the EXIT trap unmounts.
trap '[ -z "$child" ] || kill -TERM "$child" 2>/dev/null; exit 130' INT TERM HUP
rm -rf "$work"
mkdir -p "$root"
# In memory when there is room: dpkg's fsyncs cost nothing there, and
# removing ~1 GB of just-written files from a disk took 20-40 s here.
tmpfs=${P2PDMA_FRESH_ROOT_TMPFS:-auto}
[ "${P2PDMA_FRESH_ROOT_KEEP:-0}" = 1 ] && tmpfs=0
if [ "$tmpfs" = auto ]; then
	avail_kb=$(awk '/^MemAvailable:/ { print $2 }' /proc/meminfo)
	[ "${avail_kb:-0}" -ge $((8 * 1024 * 1024)) ] && tmpfs=1 || tmpfs=0
fi
if [ "$tmpfs" = 1 ]; then
	mount -t tmpfs -o size=6g,mode=755 p2pdma-fresh-root "$root" || die "mounting a tmpfs on $root failed"
	mounts+=("$root")
fi

echo "=== fresh-root: Debian $suite root"
fresh=
if [ -f "$tarball" ] && [ -n "$(find "$tarball" -mtime "-$max_days" 2>/dev/null)" ]; then
	if tar -C "$root" --numeric-owner -xzf "$tarball"; then
		fresh=cached
	else
		echo "fresh-root: $tarball is unreadable: building the root again"
		rm -rf "$root"; mkdir -p "$root"
	fi
fi
if [ -z "$fresh" ]; then
	log=$work/debootstrap.log
	echo "fresh-root: debootstrap --variant=$variant $suite (cold: a few minutes)"
	if ! debootstrap --variant="$variant" --arch="$arch" \
		--keyring=/usr/share/keyrings/debian-archive-keyring.gpg \
		"$suite" "$root" "$mirror" >"$log" 2>&1; then
		tail -40 "$log"
		tail -40 "$root/debootstrap/debootstrap.log" 2>/dev/null
		die "debootstrap $suite from $mirror failed (its output is above)"
	fi
	# Only what debootstrap made: no package lists, no downloaded debs.
	rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
	mkdir -p "$root/var/lib/apt/lists/partial"
	if tar -C "$root" --numeric-owner -czf "$tarball.tmp.$$" . && mv "$tarball.tmp.$$" "$tarball"; then
		echo "fresh-root: cached as $tarball ($(du -h "$tarball" | cut -f1))"
	else
		rm -f "$tarball.tmp.$$"
		echo "fresh-root: could not cache the root in $tarball (going on)"
	fi
	fresh=debootstrap
fi
lap "root: $fresh$([ "$tmpfs" = 1 ] && echo ", in a tmpfs")"

printf '%s\n' "$root_sources" >"$root/etc/apt/sources.list"
rm -f "$root"/etc/apt/sources.list.d/*
cat /etc/resolv.conf >"$root/etc/resolv.conf" 2>/dev/null
# An installed Debian has /etc/hosts (the installer writes it); debootstrap
# leaves none, and without it "localhost" does not resolve (Selenium
# reaches chromedriver at localhost:PORT).
[ -s "$root/etc/hosts" ] ||
	printf '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' >"$root/etc/hosts"
# An apt proxy of this machine applies in the root too.
apt-config dump 2>/dev/null | grep -iE '^Acquire::(http|https)::Proxy' >"$root/etc/apt/apt.conf.d/01proxy" ||
	rm -f "$root/etc/apt/apt.conf.d/01proxy"

echo "=== fresh-root: clean clone of the current commit"
sha=$(git -C "$repo" rev-parse HEAD) || die "$repo is not a git checkout"
if [ -n "$(git -C "$repo" status --porcelain --untracked-files=no 2>/dev/null)" ]; then
	echo "fresh-root: note: the working tree has uncommitted changes; the root gets commit $sha without them"
fi
log=$work/clone.log
if ! { git clone -q --no-hardlinks --no-checkout "$(git -C "$repo" rev-parse --path-format=absolute --git-common-dir)" "$root/src/libp2pdma" &&
	git -C "$root/src/libp2pdma" checkout -q --detach "$sha"; } >"$log" 2>&1; then
	cat "$log"
	die "git clone of $repo at $sha failed (its output is above)"
fi
echo "fresh-root: /src/libp2pdma at $sha"
lap "clone"

for m in proc sys dev; do
	case $m in
	proc) mount -t proc proc "$root/proc" ;;
	*) mount --rbind "/$m" "$root/$m" && mount --make-rslave "$root/$m" ;;
	esac || die "mounting /$m in the root failed"
	mounts+=("$root/$m")
done
mount --bind "$cache/apt-archives" "$root/var/cache/apt/archives" || die "binding the .deb cache failed"
mounts+=("$root/var/cache/apt/archives")

# in_root LOG LIMIT CMD: CMD in the root, in a login-like environment with
# nothing of ours, killed after LIMIT seconds; its output goes to LOG and
# to stdout. It runs in the background so that a signal reaches the trap at
# once (bash runs traps only between foreground commands).
in_root() {
	local log=$1 limit=$2 rc
	shift 2
	: >"$log"
	timeout -k 10 "$limit" chroot "$root" /usr/bin/env -i \
		HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		LANG=C.UTF-8 TERM=dumb P2PDMA_IN_FRESH_ROOT=1 \
		${http_proxy:+http_proxy=$http_proxy} ${https_proxy:+https_proxy=$https_proxy} \
		${no_proxy:+no_proxy=$no_proxy} \
		/bin/bash -c "cd /src/libp2pdma && $*" >"$log" 2>&1 </dev/null &
	child=$!
	tail -n +1 -f --pid="$child" "$log" &
	tailpid=$!
	wait "$child"
	rc=$?
	child=''
	wait "$tailpid"
	tailpid=''
	[ $rc != 124 ] || echo "fresh-root: $* timed out after $limit s"
	return $rc
}

# add_counts NAME LOG RC: the last "N passed, N failed, N skipped" of LOG
# joins ours; none, or a non-zero exit without a counted failure, is one
# failure.
add_counts() {
	local line p f s
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$' "$2" | tail -1)
	if [ -z "$line" ]; then
		echo "fresh-root: FAIL: $1 (exit $3) printed no 'N passed, N failed, N skipped' line"
		failed=$((failed + 1))
		return
	fi
	read -r p _ f _ s _ <<<"${line//,/}"
	passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
	[ "$3" = 0 ] || [ "$f" != 0 ] || { echo "fresh-root: FAIL: $1 exited $3"; failed=$((failed + 1)); }
}

echo "=== fresh-root: bash scripts/run.sh"
log=$work/run.log
in_root "$log" 1800 "bash scripts/run.sh"
rc=$?
lap "bash scripts/run.sh (installs, builds, reports)"
if [ "$rc" = 0 ] && grep -q '^P2P DMA report for ' "$log"; then
	echo "fresh-root: ok: run.sh exited 0 with a report"
	passed=$((passed + 1))
else
	[ "$rc" = 0 ] && echo "fresh-root: FAIL: run.sh exited 0 but printed no 'P2P DMA report for' line" ||
		echo "fresh-root: FAIL: run.sh exited $rc"
	failed=$((failed + 1))
fi

echo "=== fresh-root: P2PDMA_SKIP_CONFORMANCE=1 bash scripts/check.sh"
log=$work/check.log
in_root "$log" 3600 "P2PDMA_SKIP_CONFORMANCE=1 bash scripts/check.sh"
rc=$?
lap "P2PDMA_SKIP_CONFORMANCE=1 bash scripts/check.sh"
add_counts check.sh "$log" $rc

echo "=== fresh-root: bash scripts/failure-messages.sh"
log=$work/failure-messages.log
in_root "$log" 900 "bash scripts/failure-messages.sh"
rc=$?
lap "bash scripts/failure-messages.sh"
add_counts failure-messages.sh "$log" $rc

unmount_all
lap "unmount"
remove_work
trap - EXIT
lap "remove the root"
echo
echo "fresh-root: times (root $fresh, commit ${sha:0:12}):"
printf '  %s\n' "${times[@]}"
printf '  %-50s %4d s\n' "total" $((SECONDS - t_all))
echo "fresh-root: run.sh + check.sh + failure-messages.sh in the root:"
summary
