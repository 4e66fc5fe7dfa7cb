#!/bin/bash
# Runs the patch script twice on each CASES/*.conf placed at /etc/updatedb.conf, and the real updatedb
# on the file before and after, recording everything next to the case. One process for many cases keeps
# thousands of cases within the time budget. Only ever run inside the e2e test's private namespace.
set -euo pipefail
cases=$1 script=$2

# /etc must be the test's overlay: this loop overwrites /etc/updatedb.conf.
[[ $(findmnt -n -o FSTYPE --target /etc) == overlay ]] || {
  echo "patch-batch.sh: /etc is not an overlay; refusing to touch the host's /etc" >&2
  exit 70
}

# verdict OUT: the real updatedb's verdict on the current /etc/updatedb.conf, into OUT.rc / OUT.err.
# `--help` parses the file first and exits 1 on any error in it, without the ~150 ms an empty run costs.
verdict() {
  local rc=0
  updatedb --help >/dev/null 2>"$1.err" || rc=$?
  echo "$rc" >"$1.rc"
}

for f in "$cases"/*.conf; do
  rm -f /etc/updatedb.conf /etc/updatedb.conf.crawlguard-*
  [[ -e $f.absent ]] || cp -- "$f" /etc/updatedb.conf
  verdict "$f.orig"
  for n in 1 2; do
    rc=0
    bash "$script" >"$f.out$n" 2>"$f.err$n" || rc=$?
    echo "$rc" >"$f.rc$n"
    if [[ -e /etc/updatedb.conf ]]; then cp -- /etc/updatedb.conf "$f.after$n"; fi
    backups=(/etc/updatedb.conf.crawlguard-*)
    if [[ -e ${backups[0]} ]]; then echo "${#backups[@]}"; else echo 0; fi >"$f.backups$n"
  done
  verdict "$f.final"
done
rm -f /etc/updatedb.conf.crawlguard-*
