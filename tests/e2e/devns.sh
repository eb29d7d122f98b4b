#!/bin/sh
# devns.sh OLDDIR SOCKET COMMAND [ARG...]
#
# For test_e2e.py: run COMMAND in the current (private, `unshare -m`) mount
# namespace with a /dev of its own whose /dev/log is SOCKET, so that the
# syslog lines of a setuid program (sudo, which ignores LD_PRELOAD and so
# pam_wrapper) reach the test's listener and nothing else.  Never run it
# outside `unshare -m`: it mounts over /dev.
#
# The new /dev is a small tmpfs with the usual nodes bind-mounted from the
# real one (null zero full random urandom tty ptmx, pts, shm) and the
# /proc/self/fd links; OLDDIR is an empty directory used to reach the real
# /dev while doing so (unmounted again before COMMAND runs).  Every mount
# lives in this namespace only and goes away with its last process.
set -eu
[ $# -ge 3 ] || { echo "usage: devns.sh OLDDIR SOCKET COMMAND [ARG...]" >&2; exit 2; }
old=$1 sock=$2
shift 2
# A second guard: refuse to touch /dev when the namespace is the host's.
[ "$(readlink /proc/self/ns/mnt)" != "$(readlink /proc/1/ns/mnt)" ] ||
	{ echo "devns.sh: not in a private mount namespace" >&2; exit 2; }
mount --make-rprivate /
mount --rbind /dev "$old"
mount -t tmpfs -o mode=0755,size=64k,nosuid ropc-e2e-dev /dev
for n in null zero full random urandom tty ptmx; do
	if [ -e "$old/$n" ]; then
		: > "/dev/$n"
		mount --bind "$old/$n" "/dev/$n"
	fi
done
for d in pts shm; do
	if [ -d "$old/$d" ]; then
		mkdir "/dev/$d"
		mount --rbind "$old/$d" "/dev/$d"
	fi
done
ln -s /proc/self/fd /dev/fd
ln -s /proc/self/fd/0 /dev/stdin
ln -s /proc/self/fd/1 /dev/stdout
ln -s /proc/self/fd/2 /dev/stderr
ln -s "$sock" /dev/log
umount -l "$old"
exec "$@"
