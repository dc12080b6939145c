#!/usr/bin/env bash
# Build the project's Bochs (the VMX test bed) from Debian's archive and cache it:
#
#   scripts/bochs-build.sh          build it unless the cache holds it; print nothing when it does
#   scripts/bochs-build.sh --path   print the path of the bochs binary (built or not)
#
# Why: Debian 12 ships Bochs 2.7, which keeps an INIT pending after the VM exit it caused, so a guest's
# INIT-SIPI-SIPI never starts an AP's vCPU (docs/testing.md, "The Bochs test bed"). Upstream fixed that in
# 2022 (released in 2.8); Debian 13's source package bochs 3.0+dfsg-1 has the fix and builds on Debian 12
# with g++ alone for this configuration. Every Bochs lane, `make run` and `make bench` use this build.
#
# How: a private apt configuration (its own source list and package lists under the cache; the machine's
# apt configuration is not touched) with a deb-src entry for trixie on the same Debian mirror the machine
# already uses; `apt-get source --download-only`; the upstream tarball's SHA-256 checked against the
# archive's Sources index (the archive may answer 404 for the .dsc, so dpkg-source is not used); configure
# with the options below, make, and the binary copied to
#
#   ${HAPVISOR_CACHE:-~/.cache/hapvisor}/bochs/VERSION-CONFIGHASH/bin/bochs
#
# keyed by the Debian version and a hash of the configure options, so changing either builds anew. The ROM
# images are not in the dfsg tarball: Debian 12's bochsbios and vgabios packages provide them
# (scripts/deps.sh). A lock makes concurrent runs wait for one build. Exit 0 with the binary in place, or
# 1 with one sentence on stderr saying what failed and where the log is.
set -euo pipefail
export LC_ALL=C

BOCHS_DEBIAN_VERSION=3.0+dfsg-1
BOCHS_SUITE=trixie
BOCHS_ORIG=bochs_3.0+dfsg.orig.tar.xz
# No plugins and no GUI: the lanes use the rfb display library with timeout=0 and the internal debugger's
# -rc file (hence --enable-debugger, without readline so that the binary needs nothing the machine may
# lack); --enable-vmx=2 is VMX with EPT, VPID, unrestricted guest and PML.
BOCHS_CONFIGURE=(--with-rfb --with-nogui --disable-docbook --enable-all-optimizations --enable-cpu-level=6
	--enable-x86-64 --enable-vmx=2 --enable-smp --enable-avx --enable-evex --enable-cet
	--enable-protection-keys --enable-pci --enable-cdrom --enable-a20-pin --enable-fpu
	--enable-repeat-speedups --enable-memtype --enable-debugger --enable-x86-debugger --disable-readline)

cache_root=${HAPVISOR_CACHE:-${HOME:-/tmp}/.cache/hapvisor}/bochs
key=$BOCHS_DEBIAN_VERSION-$(printf '%s\n' "${BOCHS_CONFIGURE[@]}" | sha256sum | cut -c1-12)
dest=$cache_root/$key
bin=$dest/bin/bochs

if [ "${1:-}" = --path ]; then
	echo "$bin"
	exit 0
fi
[ -x "$bin" ] && exit 0

die() {
	echo "bochs-build: error: $*" >&2
	exit 1
}
note() { echo "bochs-build: $*"; }

for t in apt-get apt-cache g++ make tar xz sha256sum flock; do
	command -v "$t" >/dev/null ||
		die "$t is missing, so the test bed's Bochs cannot be built (Debian packages: apt, g++, make, tar, xz-utils, coreutils, util-linux; run 'scripts/deps.sh test' as root)"
done

mkdir -p "$cache_root"
exec 9>"$cache_root/.lock"
flock 9
[ -x "$bin" ] && exit 0 # another run built it while this one waited

work=$(mktemp -d "$cache_root/.work.XXXXXX")
trap 'rm -rf "$work"' EXIT
log=$cache_root/build-$key.log
: >"$log"

# debian_mirror: the URI of the machine's Debian archive (deb822 .sources or one-line sources.list), the
# first one that serves a bookworm suite; never a host name written here.
debian_mirror() {
	local f
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		awk 'BEGIN { RS = ""; FS = "\n" }
			/Suites:[^\n]*bookworm( |\n|$)/ && !/Suites:[^\n]*bookworm-security/ {
				for (i = 1; i <= NF; i++) if ($i ~ /^URIs:/) { split($i, u, /[ \t]+/); print u[2]; exit }
			}' "$f"
	done
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -f "$f" ] || continue
		awk '$1 == "deb" && $0 ~ / bookworm / { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z+]+:\/\//) { print $i; exit } }' "$f"
	done
}
mirror=$(debian_mirror | head -n 1)
[ -n "$mirror" ] || die "no Debian bookworm archive found in /etc/apt/sources.list*; the test bed's Bochs is built from Debian's source package bochs $BOCHS_DEBIAN_VERSION"

note "building Bochs $BOCHS_DEBIAN_VERSION from Debian's $BOCHS_SUITE sources (once; cached in $dest; log $log)"
mkdir -p "$cache_root/apt/lists/partial" "$cache_root/apt/cache/archives/partial" "$cache_root/apt/sources.d"
printf 'Types: deb-src\nURIs: %s\nSuites: %s\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
	"$mirror" "$BOCHS_SUITE" >"$cache_root/apt/sources.d/bochs-src.sources"
apt_opts=(-o "Dir::Etc::SourceList=/dev/null" -o "Dir::Etc::SourceParts=$cache_root/apt/sources.d"
	-o "Dir::State::Lists=$cache_root/apt/lists" -o "Dir::Cache=$cache_root/apt/cache" -o "Debug::NoLocking=1"
	-o "APT::Sandbox::User=$(id -un)")
apt-get "${apt_opts[@]}" update >>"$log" 2>&1 ||
	die "apt-get update for the $BOCHS_SUITE source index failed (see $log)"

# The SHA-256 of the upstream tarball as the archive's signed Sources index gives it.
want=$(apt-cache "${apt_opts[@]}" showsrc bochs 2>>"$log" | awk -v v="$BOCHS_DEBIAN_VERSION" -v f="$BOCHS_ORIG" '
	/^$/ { ver = ""; s = 0 } /^Version: / { ver = $2 }
	/^Checksums-Sha256:/ { s = 1; next } /^[^ ]/ { s = 0 }
	s && ver == v && $3 == f { print $1; exit }')
[ -n "$want" ] || die "Debian's $BOCHS_SUITE source index has no bochs $BOCHS_DEBIAN_VERSION (see $log)"

# The .dsc may answer 404 on this archive (its tarballs download): the exit status is not the verdict.
(cd "$work" && apt-get "${apt_opts[@]}" source --download-only "bochs=$BOCHS_DEBIAN_VERSION") >>"$log" 2>&1 || true
[ -f "$work/$BOCHS_ORIG" ] || die "could not download $BOCHS_ORIG from $mirror (see $log)"
got=$(sha256sum "$work/$BOCHS_ORIG" | cut -d' ' -f1)
[ "$got" = "$want" ] || die "$BOCHS_ORIG has SHA-256 $got, the archive's index says $want: refusing to build it"

tar -xJf "$work/$BOCHS_ORIG" -C "$work" >>"$log" 2>&1 || die "could not unpack $BOCHS_ORIG (see $log)"
src=$(find "$work" -mindepth 1 -maxdepth 1 -type d -name 'bochs-*' | head -n 1)
[ -n "$src" ] || die "$BOCHS_ORIG holds no bochs-* folder"
# The fix this build exists for (Bochs commit 88f881c6): the INIT is cleared before the VM exit it causes.
grep -q 'clear_event(BX_EVENT_INIT)' "$src/cpu/event.cc" ||
	die "bochs $BOCHS_DEBIAN_VERSION lacks the INIT fix (clear_event(BX_EVENT_INIT) in cpu/event.cc)"

(cd "$src" && ./configure --prefix="$dest" "${BOCHS_CONFIGURE[@]}") >>"$log" 2>&1 ||
	die "Bochs's configure failed (see $log)"
(cd "$src" && make -j"$(nproc)") >>"$log" 2>&1 || die "building Bochs failed (see $log)"
mkdir -p "$work/out/bin"
cp "$src/bochs" "$work/out/bin/bochs"
printf 'bochs %s (Debian %s source), configure: %s\n' "$BOCHS_DEBIAN_VERSION" "$BOCHS_SUITE" \
	"${BOCHS_CONFIGURE[*]}" >"$work/out/BUILD-INFO"
rm -rf "$dest"
mv "$work/out" "$dest"
note "built $bin"
