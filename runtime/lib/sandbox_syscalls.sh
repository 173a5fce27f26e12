#!/bin/sh
# The seccomp rule list as one target's table of numbers, once at build
# time (runtime/Makefile runs it): reads lib/sandbox_syscalls.list ("NAME
# ACTION [FALLBACK]" a line) and writes a C header with each listed call's
# number on the target, leaving out the calls the target lacks. The numbers
# come from the target compiler itself: each name is looked up as __NR_NAME
# in <sys/syscall.h> by CC with the build's CFLAGS (native gcc, musl-gcc, a
# cross compiler with its sysroot, Buildroot's), so the table is what an
# "#ifdef __NR_NAME" in the sandbox's own source would give. POSIX sh and
# awk only: the runtime's build needs no Python.
#
# usage: sandbox_syscalls.sh LIST OUT CC [CFLAGS...]
#
# OUT defines NUWA_SB_NRULES (the calls this target has) and, where the
# includer defines NUWA_SB_RULE(nr, ACTION, name), one NUWA_SB_RULE per call
# in the list's order (lib/sandbox_policy.c).
set -eu

if [ $# -lt 3 ]; then
	echo "usage: $0 LIST OUT CC [CFLAGS...]" >&2
	exit 2
fi
list=$1
out=$2
shift 2
trap 'rm -f "$out.probe.c" "$out.i" "$out.tmp"' EXIT

# 1. A probe for the target's preprocessor: per call, its number (or the
#    list's fallback) or its absence. Names are in quotes so that no macro
#    of that name rewrites them.
awk -v list="$list" '
BEGIN {
	n = split("allow eperm enosys signal_self self_or_0 prio fcntl ioctl clone personality socket", a, " ")
	for (i = 1; i <= n; i++)
		known[a[i]] = 1
	print "#include <sys/syscall.h>"
}
/^[ \t]*(#|$)/ { next }
{
	if (NF < 2 || NF > 3 || !($2 in known) || $1 !~ /^[A-Za-z_][A-Za-z0-9_]*$/ ||
	    (NF == 3 && $3 !~ /^[0-9]+$/)) {
		printf "%s:%d: want \"NAME ACTION [FALLBACK]\" with a known action: %s\n",
		       list, NR, $0 > "/dev/stderr"
		bad = 1
		exit 1
	}
	if ($1 in seen) {
		printf "%s:%d: %s is listed twice (also line %d)\n", list, NR, $1, seen[$1] > "/dev/stderr"
		bad = 1
		exit 1
	}
	seen[$1] = NR
	macro = $1 ~ /^__/ ? $1 : "__NR_" $1
	printf "#ifdef %s\nNUWA_SB_HAVE \"%s\" %s %s\n#else\n", macro, $1, toupper($2), macro
	if (NF == 3)
		printf "NUWA_SB_HAVE \"%s\" %s %s\n", $1, toupper($2), $3
	else
		printf "NUWA_SB_LACK \"%s\"\n", $1
	print "#endif"
}
END { if (bad) exit 1 }
' "$list" > "$out.probe.c"

# 2. Preprocessed by the target's compiler, then written as the header.
"$@" -E -P -x c "$out.probe.c" > "$out.i"
awk -v list="$(basename "$list")" '
$1 == "NUWA_SB_HAVE" {
	name = $2
	gsub(/"/, "", name)
	nr = $0
	sub(/^[ \t]*NUWA_SB_HAVE[ \t]+"[^"]*"[ \t]+[A-Z_0-9]+[ \t]+/, "", nr)
	sub(/[ \t]+$/, "", nr)
	rule[++n] = sprintf("NUWA_SB_RULE(%s, %s, %s)", nr, $3, name)
	next
}
$1 == "NUWA_SB_LACK" {
	name = $2
	gsub(/"/, "", name)
	lack = lack " " name
	nlack++
}
END {
	if (!n) {
		print "sandbox_syscalls.sh: the compiler knows none of the listed calls" > "/dev/stderr"
		exit 1
	}
	printf "/* Generated from lib/%s by lib/sandbox_syscalls.sh for this target: do not edit. */\n", list
	printf "#define NUWA_SB_NRULES %d\n", n
	printf "/* not on this target (%d):%s */\n", nlack, lack
	print "#ifdef NUWA_SB_RULE"
	for (i = 1; i <= n; i++)
		print rule[i]
	print "#endif"
}
' "$out.i" > "$out.tmp"
mv "$out.tmp" "$out"
