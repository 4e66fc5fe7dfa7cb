#!/bin/bash
# crawlguard restart-s3fs: restarts s3fs mounts to release the memory a crawl left in s3fs's caches,
# without losing data. Output: one JSON object on stdout (fields in shared/ssm/README.md).
# Parameters arrive as SSM_Mounts (comma-separated, empty = every fuse.s3fs mount) and SSM_Mode.
# Never `umount -l`, never a signal to s3fs (SIGTERM makes s3fs unmount under a writer: data lost).
# Exit codes: 0 restarted (or nothing to do, or check mode)
#             1 failed: a mount is missing or unreadable after the retries, or a requested mount is not
#               mounted - an outage, act now
#             2 bad parameters
#             3 deferred: processes hold files on the mount, or umount said busy; or busy: another run
#               holds the lock (nothing changed)
#             4 refused: not an s3fs mount, or no known way to mount it again, or the state directory
#               is not root's (nothing changed)
set -Eeuo pipefail
export LC_ALL=C
# The agent's PATH may lack the sbin directories; the offline tests' PATH is exactly what they allow.
[[ -n ${CRAWLGUARD_TEST_ROOT:-} ]] || PATH=$PATH:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
# Everything a tool prints goes to stderr; fd 3 carries the single JSON document.
exec 3>&1 1>&2
# Our own working directory must never hold a mount busy.
cd /

readonly DOCUMENT=crawlguard-restart-s3fs
# Parameter syntax: the document's allowedPattern of a list is ^$|^ITEM(,ITEM){0,19}$ (a test checks it).
readonly PATTERN_Mode='^(check|apply)$'
readonly ITEM_Mounts='(/\.?[A-Za-z0-9_@+-]+(\.[A-Za-z0-9_@+-]+)*){1,16}'
# Bounds, in seconds: listing holders, an updatedb leaving after SIGTERM, the old s3fs leaving after
# umount, a new mount appearing, a verification listing.
readonly HOLDER_TIMEOUT=60 UPDATEDB_STOP_WAIT=30 DAEMON_EXIT_WAIT=60 MOUNT_APPEAR_WAIT=15 LIST_TIMEOUT=30
readonly MAX_MOUNTS=20 MAX_HOLDERS=20

# >>> embedded lib/json.sh (edit shared/ssm/lib/json.sh, then run: npm run ssm:sync)
# JSON output helpers (bash >= 4.2, any POSIX awk). No jq or python3 on the instance is assumed.
# Every function returns its result in REPLY so that building a document forks nothing on the fast path.
# Needs LC_ALL=C (set by the caller) so that string lengths and character classes count bytes.

# json_quote VALUE: REPLY = VALUE as a JSON string literal; invalid UTF-8 bytes become U+FFFD.
json_quote() {
  local s=$1 bs=\\ q='"'
  case $s in
    *[!\ -~]*) json_quote_slow "$s" ;;
    *)
      s=${s//"$bs"/"$bs$bs"}
      REPLY="\"${s//"$q"/"$bs$q"}\""
      ;;
  esac
}

# json_quote_slow VALUE: the byte-by-byte path for control characters and non-ASCII text.
json_quote_slow() {
  REPLY=$(JSON_VALUE=$1 awk 'BEGIN {
    for (i = 1; i < 256; i++) ord[sprintf("%c", i)] = i
    s = ENVIRON["JSON_VALUE"]; n = length(s); out = ""; i = 1
    while (i <= n) {
      c = substr(s, i, 1); o = ord[c]
      if (o == 34) { out = out "\\\""; i++; continue }
      if (o == 92) { out = out "\\\\"; i++; continue }
      if (o == 10) { out = out "\\n"; i++; continue }
      if (o == 13) { out = out "\\r"; i++; continue }
      if (o == 9) { out = out "\\t"; i++; continue }
      if (o < 32 || o == 127) { out = out sprintf("\\u%04x", o); i++; continue }
      if (o < 128) { out = out c; i++; continue }
      # UTF-8: lead byte gives the length and the allowed range of the second byte (RFC 3629).
      len = 0; lo = 128; hi = 191
      if (o >= 194 && o <= 223) len = 2
      else if (o == 224) { len = 3; lo = 160 }
      else if (o == 237) { len = 3; hi = 159 }
      else if (o >= 225 && o <= 239) len = 3
      else if (o == 240) { len = 4; lo = 144 }
      else if (o >= 241 && o <= 243) len = 4
      else if (o == 244) { len = 4; hi = 143 }
      ok = (len > 0 && i + len - 1 <= n)
      for (k = 1; ok && k < len; k++) {
        b = ord[substr(s, i + k, 1)]
        if (k == 1 && (b < lo || b > hi)) ok = 0
        if (k > 1 && (b < 128 || b > 191)) ok = 0
      }
      if (ok) { out = out substr(s, i, len); i += len } else { out = out "\\ufffd"; i++ }
    }
    printf "\"%s\"", out
  }')
}

# shellcheck disable=SC2317 # library function: not every script calls it
# json_num VALUE: REPLY = VALUE if it is a decimal integer, else null.
json_num() {
  if [[ $1 =~ ^-?[0-9]{1,18}$ ]]; then REPLY=$1; else REPLY=null; fi
}

# shellcheck disable=SC2317 # library function: not every script calls it
# json_bool VALUE: REPLY = true for 1/true/yes, false otherwise.
json_bool() {
  case $1 in 1 | true | yes) REPLY=true ;; *) REPLY=false ;; esac
}

# json_quote_or_null VALUE: REPLY = null for an empty VALUE, else its JSON string.
json_quote_or_null() {
  if [[ -z $1 ]]; then REPLY=null; else json_quote "$1"; fi
}

# shellcheck disable=SC2034 # JSON_TRUNCATED is read by the callers
# json_str_array MAX VALUE...: REPLY = JSON array of at most MAX strings; JSON_TRUNCATED=1 when cut.
json_str_array() {
  local max=$1 out='' n=0 v
  shift
  JSON_TRUNCATED=0
  for v in "$@"; do
    if ((n >= max)); then JSON_TRUNCATED=1; break; fi
    json_quote "$v"
    out+="${out:+,}$REPLY"
    n=$((n + 1))
  done
  REPLY="[$out]"
}

# json_add OBJVAR NAME RAWJSON: appends "NAME":RAWJSON to the object body held in variable OBJVAR.
json_add() {
  printf -v "$1" '%s%s"%s":%s' "${!1}" "${!1:+,}" "$2" "$3"
}

# json_add_str OBJVAR NAME VALUE: appends a string member.
json_add_str() {
  json_quote "$3"
  json_add "$1" "$2" "$REPLY"
}

# json_add_str_or_null OBJVAR NAME VALUE: appends a string member, null when VALUE is empty.
json_add_str_or_null() {
  json_quote_or_null "$3"
  json_add "$1" "$2" "$REPLY"
}

# shellcheck disable=SC2317 # library function: not every script calls it
# json_add_num OBJVAR NAME VALUE: appends an integer member, null when VALUE is not an integer.
json_add_num() {
  json_num "$3"
  json_add "$1" "$2" "$REPLY"
}

# shellcheck disable=SC2317 # library function: not every script calls it
# json_add_bool OBJVAR NAME VALUE: appends a boolean member.
json_add_bool() {
  json_bool "$3"
  json_add "$1" "$2" "$REPLY"
}

# json_truncate VALUE MAX: REPLY = VALUE cut to MAX bytes (a cut UTF-8 tail becomes U+FFFD when quoted).
json_truncate() {
  if ((${#1} > $2)); then REPLY="${1:0:$2}"; else REPLY=$1; fi
}
# <<< embedded lib/json.sh
# >>> embedded lib/params.sh (edit shared/ssm/lib/params.sh, then run: npm run ssm:sync)
# SSM parameter readers (bash >= 4.2). Parameters arrive as SSM_<Name> environment variables; the
# document's allowedPattern checks them on agents >= 3.3.2746.0, these functions check them again.
# The script defines `bad_parameters REASON`, which prints its badParameters document and exits 2.

# read_param NAME DEFAULT: REPLY = $SSM_NAME (DEFAULT when unset but SSM_Mode is set).
read_param() {
  local var="SSM_$1"
  if [[ -n ${!var+set} ]]; then
    REPLY=${!var}
  elif [[ -n ${SSM_Mode+set} ]]; then
    REPLY=$2
  else
    bad_parameters "$var is not set: run through SSM (agent >= 3.3.2746.0 passes parameters as SSM_* environment variables)"
  fi
  # Bounded input keeps the output under SSM's 24,000 characters.
  ((${#REPLY} <= 2000)) || bad_parameters "$var is longer than 2000 characters"
}

# read_choice NAME DEFAULT PATTERN: REPLY = $SSM_NAME, which must match PATTERN (an anchored regex).
read_choice() {
  read_param "$1" "$2"
  [[ $REPLY =~ $3 ]] || bad_parameters "SSM_$1 does not match $3"
}

# read_list NAME DEFAULT ITEM_PATTERN: LIST = the comma-separated items of $SSM_NAME, each matching ITEM_PATTERN.
read_list() {
  local item
  read_param "$1" "$2"
  LIST=()
  [[ -z $REPLY ]] && return 0
  if [[ $REPLY != *[!,]* || $REPLY == ,* || $REPLY == *, || $REPLY == *,,* || $REPLY == *$'\n'* ]]; then
    bad_parameters "SSM_$1 is not a comma-separated list"
  fi
  IFS=, read -r -a LIST <<<"$REPLY"
  ((${#LIST[@]} <= 20)) || bad_parameters "SSM_$1 has more than 20 items"
  for item in "${LIST[@]}"; do
    [[ $item =~ ^$3$ ]] || bad_parameters "SSM_$1: item does not match ^$3$"
  done
}
# <<< embedded lib/params.sh
# >>> embedded lib/mounts.sh (edit shared/ssm/lib/mounts.sh, then run: npm run ssm:sync)
# Mount table, fstab and process helpers (bash >= 4.2). Every path read is prefixed with $R, which is
# empty on an instance and a fake root in the offline tests.

# unescape_mount_field FIELD: REPLY = FIELD with the kernel's/fstab's octal escapes (\040 ...) decoded.
unescape_mount_field() {
  local s=$1 bs=\\
  if [[ $s == *"$bs"* ]]; then printf -v REPLY '%b' "${s//"$bs"/"$bs"0}"; else REPLY=$s; fi
}

# read_mounts: MOUNT_SRC, MOUNT_DIR, MOUNT_TYPE, MOUNT_OPTS = the current mount table, in mount order.
read_mounts() {
  local src dir type opts rest
  MOUNT_SRC=() MOUNT_DIR=() MOUNT_TYPE=() MOUNT_OPTS=()
  while read -r src dir type opts rest; do
    unescape_mount_field "$src"
    MOUNT_SRC+=("$REPLY")
    unescape_mount_field "$dir"
    MOUNT_DIR+=("$REPLY")
    MOUNT_TYPE+=("$type")
    MOUNT_OPTS+=("$opts")
  done <"$R/proc/self/mounts"
}

# mount_index DIR: REPLY = index in MOUNT_* of the topmost mount on DIR; returns 1 when DIR is not mounted.
mount_index() {
  local i
  for ((i = ${#MOUNT_DIR[@]} - 1; i >= 0; i--)); do
    if [[ ${MOUNT_DIR[i]} == "$1" ]]; then
      REPLY=$i
      return 0
    fi
  done
  return 1
}

# is_s3fs_mounted DIR: true when the topmost mount on DIR is fuse.s3fs (re-reads the mount table).
is_s3fs_mounted() {
  read_mounts
  mount_index "$1" && [[ ${MOUNT_TYPE[REPLY]} == fuse.s3fs ]]
}

# shellcheck disable=SC2034 # FSTAB_* are results for the callers
# fstab_entry DIR: FSTAB_LINE, FSTAB_SRC, FSTAB_TYPE, FSTAB_OPTS of the /etc/fstab line mounting DIR; 1 if
# none. Reads at most 256 KiB of it (read_bounded, lib/files.sh).
fstab_entry() {
  local line src dir type opts rest
  FSTAB_LINE='' FSTAB_SRC='' FSTAB_TYPE='' FSTAB_OPTS=''
  read_bounded "$R/etc/fstab" 262144 || return 1
  while IFS= read -r line || [[ -n $line ]]; do
    [[ $line =~ ^[[:space:]]*(#|$) ]] && continue
    read -r src dir type opts rest <<<"$line"
    unescape_mount_field "$dir"
    [[ ${REPLY%/} == "$1" || $REPLY == "$1" ]] || continue
    FSTAB_LINE=$line FSTAB_TYPE=$type FSTAB_OPTS=$opts
    unescape_mount_field "$src"
    FSTAB_SRC=$REPLY
  done <<<"$REPLY"
  [[ -n $FSTAB_LINE ]]
}

# proc_argv PID: ARGV = the process's command line, at most its first 64 KiB and 256 arguments (empty
# when it is gone or a kernel thread). Any process sets its own, up to megabytes.
proc_argv() {
  local arg bytes=0
  ARGV=()
  [[ -r $R/proc/$1/cmdline ]] || return 0
  while IFS= read -r -d '' arg && ((${#ARGV[@]} < 256 && (bytes += ${#arg} + 1) <= 65536)); do
    ARGV+=("$arg")
  done <"$R/proc/$1/cmdline" 2>/dev/null || true
}

# proc_comm PID: REPLY = the process name, empty when it is gone.
proc_comm() {
  REPLY=''
  if [[ -r $R/proc/$1/comm ]]; then read -r REPLY <"$R/proc/$1/comm" 2>/dev/null || REPLY=''; fi
}

# proc_rss_kib PID: REPLY = resident set size in KiB (VmRSS), empty when unknown.
proc_rss_kib() {
  local key value unit
  REPLY=''
  [[ -r $R/proc/$1/status ]] || return 0
  while read -r key value unit; do
    if [[ $key == VmRSS: ]]; then
      REPLY=$value
      return 0
    fi
  done <"$R/proc/$1/status" 2>/dev/null || true
}

# proc_uid PID: REPLY = the process's real user id when its effective one is the same, else empty.
proc_uid() {
  local key real effective
  REPLY=''
  [[ -r $R/proc/$1/status ]] || return 0
  while read -r key real effective _; do
    if [[ $key == Uid: ]]; then
      if [[ $real == "$effective" ]]; then REPLY=$real; fi
      return 0
    fi
  done <"$R/proc/$1/status" 2>/dev/null || true
}

# proc_alive PID: true while the process exists and is not a zombie waiting for its parent.
proc_alive() {
  local key value
  [[ -r $R/proc/$1/status ]] || return 1
  while read -r key value _; do
    if [[ $key == State: ]]; then
      [[ $value != Z && $value != X ]]
      return
    fi
  done <"$R/proc/$1/status" 2>/dev/null
  return 1
}

# list_pids: PIDS = every process id, ascending.
list_pids() {
  local d
  PIDS=()
  for d in "$R"/proc/[0-9]*; do
    if [[ -d $d ]]; then PIDS+=("${d##*/}"); fi
  done
}

# s3fs_daemons_for DIR [UID]: DAEMON_PIDS = live s3fs processes of user UID (default root) whose command
# line names DIR as mount point. Any user can name a process s3fs and give it any command line.
s3fs_daemons_for() {
  local pid arg
  DAEMON_PIDS=()
  list_pids
  for pid in ${PIDS[@]+"${PIDS[@]}"}; do
    proc_comm "$pid"
    [[ $REPLY == s3fs ]] || continue
    proc_alive "$pid" || continue
    proc_uid "$pid"
    [[ $REPLY == "${2:-0}" ]] || continue
    proc_argv "$pid"
    for arg in "${ARGV[@]:1}"; do
      if [[ $arg == "$1" || $arg == "$1/" ]]; then
        DAEMON_PIDS+=("$pid")
        break
      fi
    done
  done
}

# shellcheck disable=SC2317 # library function: not every script calls it
# s3fs_option OPTS NAME: REPLY = value of NAME in a comma-separated -o list (empty when absent).
s3fs_option() {
  local item
  REPLY=''
  local IFS=,
  for item in $1; do
    if [[ $item == "$2="* ]]; then REPLY=${item#*=}; fi
  done
}

# shellcheck disable=SC2317 # library function: not every script calls it
# s3fs_argv_options: REPLY = the comma-joined values of every -o in ARGV.
s3fs_argv_options() {
  local i out=''
  for ((i = 1; i < ${#ARGV[@]}; i++)); do
    case ${ARGV[i]} in
      -o) out+="${out:+,}${ARGV[i + 1]:-}" ;;
      -o?*) out+="${out:+,}${ARGV[i]#-o}" ;;
    esac
  done
  REPLY=$out
}

# systemd_running: true when systemd is PID 1 and systemctl exists. Queries to it are bounded to 10 s.
systemd_running() {
  [[ -d $R/run/systemd/system ]] && command -v systemctl >/dev/null
}

# shellcheck disable=SC2034 # METHOD* are results for the callers
# mount_method DIR DAEMON_PID: METHOD = fstab | systemdMount | systemdService | process | unknown, and
# METHOD_UNIT (systemd unit) or METHOD_DETAIL (fstab line) for it. Decided before anything is unmounted.
mount_method() {
  local dir=$1 pid=$2 unit fragment source cgroup
  METHOD=unknown METHOD_UNIT='' METHOD_DETAIL=''
  if systemd_running; then
    unit=$(systemd-escape -p --suffix=mount -- "$dir" 2>/dev/null) || unit=''
    if [[ -n $unit ]]; then
      fragment=$(timeout 10 systemctl show -p FragmentPath --value -- "$unit" 2>/dev/null) || fragment=''
      source=$(timeout 10 systemctl show -p SourcePath --value -- "$unit" 2>/dev/null) || source=''
      if [[ -n $fragment && $source != /etc/fstab ]]; then
        METHOD=systemdMount METHOD_UNIT=$unit METHOD_DETAIL=$fragment
        return 0
      fi
    fi
    # A service whose own ExecStart runs s3fs; s3fs started from a shell inside another service is a process.
    if [[ -n $pid && -r $R/proc/$pid/cgroup ]]; then
      while IFS= read -r cgroup; do
        [[ ${cgroup##*:} =~ /([^/]+\.service)$ ]] || continue
        unit=${BASH_REMATCH[1]}
        if [[ $(timeout 10 systemctl show -p ExecStart --value -- "$unit" 2>/dev/null) == *s3fs* ]]; then
          METHOD=systemdService METHOD_UNIT=$unit
          return 0
        fi
      done <"$R/proc/$pid/cgroup"
    fi
  fi
  if fstab_entry "$dir" && [[ $FSTAB_TYPE == fuse.s3fs || ($FSTAB_TYPE == fuse && $FSTAB_SRC == s3fs#*) ]]; then
    METHOD=fstab METHOD_DETAIL=$FSTAB_LINE
    return 0
  fi
  if [[ -n $pid ]]; then
    proc_argv "$pid"
    if ((${#ARGV[@]} > 0)); then
      METHOD=process METHOD_DETAIL="${ARGV[*]}"
    fi
  fi
}
# <<< embedded lib/mounts.sh
# >>> embedded lib/state.sh (edit shared/ssm/lib/state.sh, then run: npm run ssm:sync)
# Root-only state: trusted paths, the scripts' own directory and their lock (bash >= 4.2, coreutils stat,
# readlink, util-linux flock). Paths are prefixed with $R: empty on an instance, a fake root in the tests.
# Trusted = owned by root (or by the user running the script, who is root on an instance), not writable
# by group or others, in directories that are the same; a root-owned sticky directory (/tmp) may sit above.

# trusted_path PATH: true when PATH is not a symbolic link and it and every directory above it (links
# above resolved) are trusted. TRUST_ERROR says why not.
trusted_path() {
  local dir name kind uid mode n=0
  local -a paths=()
  TRUST_ERROR=''
  name=${1##*/} dir=${1%/*}
  dir=$(readlink -f -- "${dir:-/}" 2>/dev/null) || dir=''
  if [[ -z $dir || -z $name ]]; then
    TRUST_ERROR="$1: cannot resolve its directory"
    return 1
  fi
  paths=("${dir%/}/$name")
  while [[ -n $dir && $dir != / ]]; do
    paths+=("$dir")
    dir=${dir%/*}
  done
  paths+=(/)
  while IFS='|' read -r kind uid mode name; do
    n=$((n + 1))
    mode=$((8#$mode))
    if ((n == 1)) && [[ $kind == 'symbolic link' ]]; then
      TRUST_ERROR="$name is a symbolic link"
    elif ((n > 1)) && [[ $kind != directory ]]; then
      TRUST_ERROR="$name is not a directory"
    elif ((uid != 0 && uid != EUID)); then
      TRUST_ERROR="$name is owned by uid $uid, not root"
    elif ((mode & 8#022)) && ! ((n > 1 && uid == 0 && mode & 8#1000)); then
      TRUST_ERROR="$name is writable by group or others (mode $(printf %o "$mode"))"
    fi
    [[ -z $TRUST_ERROR ]] || return 1
  done < <(stat -c '%F|%u|%a|%n' -- "${paths[@]}" 2>/dev/null || true)
  if ((n != ${#paths[@]})); then
    TRUST_ERROR="${paths[0]}: cannot stat it or a directory above it"
    return 1
  fi
}

# state_dir: STATE_DIR = $R/run/crawlguard, created 0700 when absent; true when it is a real directory that
# trusted_path accepts (only root can then create, replace or lock anything in it). TRUST_ERROR says why not.
state_dir() {
  STATE_DIR=$R/run/crawlguard
  if [[ ! -e $STATE_DIR && ! -L $STATE_DIR ]]; then mkdir -m 0700 -- "$STATE_DIR" 2>/dev/null || true; fi
  trusted_path "$STATE_DIR" || return 1
  [[ -d $STATE_DIR && ! -L $STATE_DIR ]] || {
    TRUST_ERROR="$STATE_DIR is not a directory"
    return 1
  }
}

# take_lock NAME: an exclusive flock on $STATE_DIR/NAME.lock, held on fd 9 until the script exits (a
# child that outlives the script must close fd 9). Returns 1 when another run holds it, 2 (LOCK_ERROR)
# when it cannot be taken. Call state_dir first.
take_lock() {
  local file=$STATE_DIR/$1.lock
  LOCK_ERROR=''
  if ! command -v flock >/dev/null; then
    LOCK_ERROR='flock (util-linux) is not installed'
    return 2
  fi
  # noclobber: O_EXCL, which never follows a link; the directory is ours alone anyway.
  if [[ ! -e $file && ! -L $file ]]; then (set -C && : >"$file") 2>/dev/null || true; fi
  if [[ -L $file || ! -f $file ]] || ! { exec 9<"$file"; } 2>/dev/null; then
    LOCK_ERROR="$file is not a regular file that can be opened"
    return 2
  fi
  flock -n 9 || return 1
}
# <<< embedded lib/state.sh
# >>> embedded lib/files.sh (edit shared/ssm/lib/files.sh, then run: npm run ssm:sync)
# Input files without surprises (bash >= 4.2, coreutils head/timeout/tr): what a path is, found without
# opening it, and reads that are bounded in bytes and in time, so that a FIFO, a device or a huge file
# (or one swapped in between the check and the read) cannot hang the script or fill its memory.

# shellcheck disable=SC2317 # library function: not every script calls it
# file_type PATH [follow]: REPLY = absent, symlink, regular, directory, fifo, socket, characterDevice,
# blockDevice or other; with `follow`, a symbolic link is reported as what it points to.
file_type() {
  if [[ $# -lt 2 && -L $1 ]]; then REPLY=symlink
  elif [[ -f $1 ]]; then REPLY=regular
  elif [[ -d $1 ]]; then REPLY=directory
  elif [[ -p $1 ]]; then REPLY=fifo
  elif [[ -S $1 ]]; then REPLY=socket
  elif [[ -c $1 ]]; then REPLY=characterDevice
  elif [[ -b $1 ]]; then REPLY=blockDevice
  elif [[ -e $1 || -L $1 ]]; then REPLY=other
  else REPLY=absent
  fi
}

# shellcheck disable=SC2317,SC2034 # library function: not every script calls it or reads READ_TRUNCATED
# read_bounded PATH MAX: REPLY = the first MAX bytes of PATH, a regular file (links followed), NUL bytes
# dropped; READ_TRUNCATED=1 when it holds more. Returns 1 (REPLY empty) when PATH is not a regular file.
read_bounded() {
  REPLY='' READ_TRUNCATED=0
  [[ -f $1 ]] || return 1
  # The trailing dot keeps trailing newlines, which $() would drop.
  REPLY=$({ timeout 10 head -c "$(($2 + 1))" -- "$1" 2>/dev/null || true; } | tr -d '\000' && printf .)
  REPLY=${REPLY%.}
  if ((${#REPLY} > $2)); then REPLY=${REPLY:0:$2} READ_TRUNCATED=1; fi
}
# <<< embedded lib/files.sh

# Test-only prefix for the files this script reads; empty on a real instance.
R=${CRAWLGUARD_TEST_ROOT:-}
# Remount retry delays; the offline tests shorten them.
read -r -a BACKOFF <<<"${CRAWLGUARD_TEST_BACKOFF:-1 2 4 8 16}"
MODE='' LIST=() EMITTED=0 ERR_LINE='' ERR_CMD='' MOUNTS_JSON='' MOUNT_COUNT=0 WORST=0 ALL_S3FS=0 ACTED=0

# finish STATUS EXIT REASON: prints the JSON document and exits.
finish() {
  local o=''
  json_add_str o document "$DOCUMENT"
  json_add o outputVersion 1
  json_add_str_or_null o mode "$MODE"
  json_add_str o status "$1"
  json_add o mounts "[$MOUNTS_JSON]"
  json_add_bool o mountsTruncated "$((MOUNT_COUNT > MAX_MOUNTS))"
  json_truncate "$3" 2000
  json_add_str_or_null o reason "$REPLY"
  json_add o exitCode "$2"
  if ((${#o} > 23000)); then
    o='' MOUNTS_JSON=''
    json_add_str o document "$DOCUMENT"
    json_add o outputVersion 1
    json_add_str_or_null o mode "$MODE"
    json_add_str o status "$1"
    json_add o mounts '[]'
    json_add o mountsTruncated true
    json_add_str o reason "output exceeded SSM's 24,000 characters; run with fewer Mounts"
    json_add o exitCode "$2"
  fi
  printf '{%s}\n' "$o" >&3
  EMITTED=1
  exit "$2"
}

# shellcheck disable=SC2317 # runs from the EXIT trap
on_exit() {
  local rc=$?
  if [[ $EMITTED == 0 ]]; then
    trap - EXIT
    finish failed 1 "internal error: exit $rc at line ${ERR_LINE:-?} (${ERR_CMD:-?})"
  fi
}
trap on_exit EXIT
trap 'ERR_LINE=$LINENO; ERR_CMD=$BASH_COMMAND' ERR

# bad_parameters REASON: the badParameters document (exit 2), for lib/params.sh.
bad_parameters() {
  finish badParameters 2 "$1"
}

# proc_holders DIR: REPLY = PIDs whose cwd, root or an open file is DIR or below it (from /proc links).
proc_holders() {
  local pattern=$1 path out='' bs=\\ c
  # -lname takes a glob: escape the glob characters of the mount point.
  pattern=${pattern//"$bs"/"$bs$bs"}
  for c in '*' '?' '['; do pattern=${pattern//"$c"/"$bs$c"}; done
  while IFS= read -r path; do
    path=${path#"$R/proc/"}
    out+=" ${path%%/*}"
  done < <(find "$R"/proc/[0-9]*/fd "$R"/proc/[0-9]*/cwd "$R"/proc/[0-9]*/root -maxdepth 1 \
    \( -lname "$pattern" -o -lname "$pattern/*" \) -print 2>/dev/null || true)
  REPLY=$out
}

# find_holders DIR EXCLUDED_PIDS...: HOLDERS = processes with a file, directory or cwd on DIR's
# filesystem: fuser (else lsof), united with our own scan of /proc so that one tool's blind spot is not ours.
find_holders() {
  local dir=$1 out='' tok pid rc=0
  shift
  local -A skip=([$$]=1 [$BASHPID]=1)
  for pid in "$@"; do skip[$pid]=1; done
  HOLDERS=() HOLDER_SOURCE='proc' HOLDER_ERROR=''
  if command -v fuser >/dev/null; then
    HOLDER_SOURCE='fuser+proc'
    # psmisc fuser takes no `--`; the path is absolute, so it cannot be read as an option.
    out=$(timeout "$HOLDER_TIMEOUT" fuser -m "$R$dir" 2>/dev/null) || rc=$?
    # fuser exits 1 when nobody holds the mount; timeout exits 124.
    if ((rc > 1)); then HOLDER_ERROR="fuser failed (exit $rc)"; fi
  elif command -v lsof >/dev/null; then
    HOLDER_SOURCE='lsof+proc'
    out=$(timeout "$HOLDER_TIMEOUT" lsof -t -w -- "$R$dir" 2>/dev/null) || rc=$?
    if ((rc > 1)); then HOLDER_ERROR="lsof failed (exit $rc)"; fi
  fi
  proc_holders "$dir"
  out+=" $REPLY"
  for tok in $out; do
    tok=${tok%%[!0-9]*}
    [[ -n $tok && -z ${skip[$tok]:-} ]] || continue
    skip[$tok]=1
    HOLDERS+=("$tok")
  done
}

# updatedb_pids_on DIR: UPDATEDB_PIDS = root's running updatedb processes among HOLDERS or with a cwd/fd
# on DIR (another user's process named updatedb is a holder like any other: never signalled).
updatedb_pids_on() {
  local dir=$1 pid holder
  local -A on_dir=()
  UPDATEDB_PIDS=()
  for holder in ${HOLDERS[@]+"${HOLDERS[@]}"}; do on_dir[$holder]=1; done
  proc_holders "$dir"
  for pid in $REPLY; do on_dir[$pid]=1; done
  list_pids
  for pid in ${PIDS[@]+"${PIDS[@]}"}; do
    [[ -n ${on_dir[$pid]:-} ]] || continue
    proc_comm "$pid"
    [[ $REPLY == updatedb* ]] || continue
    proc_uid "$pid"
    if [[ $REPLY == 0 ]] && proc_alive "$pid"; then UPDATEDB_PIDS+=("$pid"); fi
  done
}

# holders_json PID...: REPLY = [{"pid":N,"command":"..."}...] (at most MAX_HOLDERS).
holders_json() {
  local out='' pid n=0 o comm
  for pid in "$@"; do
    ((n < MAX_HOLDERS)) || break
    n=$((n + 1))
    proc_comm "$pid"
    comm=$REPLY o=''
    json_add_num o pid "$pid"
    json_add_str o command "$comm"
    out+="${out:+,}{$o}"
  done
  REPLY="[$out]"
}

# mount_once DIR: one attempt to mount DIR again the way it was mounted (METHOD, saved before umount).
# The new s3fs daemon must not inherit fd 3 (our stdout: it would hold the command's output open) nor
# fd 9 (our lock: every later run would be busy).
mount_once() {
  local dir=$1
  case $METHOD in
    fstab) mount -- "$dir" 3>&- 9<&- ;;
    systemdMount) systemctl start -- "$METHOD_UNIT" 3>&- 9<&- ;;
    systemdService)
      # Restart=always may already have started it again after s3fs exited.
      systemctl is-active --quiet -- "$METHOD_UNIT" || systemctl start -- "$METHOD_UNIT" 3>&- 9<&-
      ;;
    process)
      # s3fs without -f daemonizes; with -f it stays in front: either way it must outlive this script.
      (
        cd "$SAVED_CWD" 2>/dev/null || cd /
        exec setsid env -i ${SAVED_ENV[@]+"${SAVED_ENV[@]}"} "$SAVED_EXE" "${SAVED_ARGV[@]:1}" \
          </dev/null >/dev/null 2>&1 3>&- 9<&-
      ) &
      ;;
    *) return 1 ;;
  esac
}

# remount DIR OLD_PIDS...: mounts DIR again with bounded backoff until it is fuse.s3fs and can be listed.
remount() {
  local dir=$1 delay waited out started
  shift
  ATTEMPTS=0 VERIFIED=false REMOUNT_ERROR=''
  for delay in 0 ${BACKOFF[@]+"${BACKOFF[@]}"}; do
    ((delay == 0)) || sleep "$delay"
    ATTEMPTS=$((ATTEMPTS + 1))
    if ! is_s3fs_mounted "$dir"; then
      s3fs_daemons_for "$dir"
      # A new s3fs that is still starting must not get a twin stacked on the same mount point.
      started=1
      if ! new_daemon_running "$@"; then
        out=$(mount_once "$dir" 2>&1) || {
          started=0
          REMOUNT_ERROR="attempt $ATTEMPTS: ${out:-mount command failed}"
        }
      fi
      # A started s3fs (or unit) may take a moment before the mount shows in the table.
      for ((waited = 0; started == 1 && waited < MOUNT_APPEAR_WAIT * 5; waited++)); do
        is_s3fs_mounted "$dir" && break
        sleep 0.2
      done
    fi
    if is_s3fs_mounted "$dir"; then
      if out=$(timeout "$LIST_TIMEOUT" ls -A -- "$R$dir" 2>&1 >/dev/null); then
        VERIFIED=true
        return 0
      fi
      REMOUNT_ERROR="attempt $ATTEMPTS: mounted but listing failed: $out"
    fi
  done
  return 1
}

# new_daemon_running OLD_PIDS...: true when DAEMON_PIDS holds a process not among OLD_PIDS.
new_daemon_running() {
  local pid old
  for pid in ${DAEMON_PIDS[@]+"${DAEMON_PIDS[@]}"}; do
    for old in "$@"; do [[ $pid == "$old" ]] && continue 2; done
    return 0
  done
  return 1
}

# wait_gone SECONDS PID...: true when every PID has exited (zombies count as exited) within SECONDS.
wait_gone() {
  local i pid left
  for ((i = 0; i <= $1 * 5; i++)); do
    left=0
    for pid in "${@:2}"; do proc_alive "$pid" && left=1; done
    ((left == 0)) && return 0
    sleep 0.2
  done
  return 1
}

# restart_one DIR: handles one mount point and appends its JSON to MOUNTS_JSON.
restart_one() {
  local dir=$1 status='' reason='' o='' idx='' src='' type='' opts='' pid='' rss_before='' rss_after='' pid_after=''
  local exited=null
  local p q kv out exe
  local -a warnings=() stopped=() others=()
  METHOD=unknown METHOD_UNIT='' METHOD_DETAIL='' HOLDERS=() HOLDER_SOURCE='' HOLDER_ERROR='' UPDATEDB_PIDS=()
  DAEMON_PIDS=() ATTEMPTS=0 VERIFIED=false REMOUNT_ERROR=''
  read_mounts
  # The mount table is read again later: keep this mount's fields, not an index into it.
  if mount_index "$dir"; then idx=$REPLY src=${MOUNT_SRC[REPLY]} type=${MOUNT_TYPE[REPLY]} opts=${MOUNT_OPTS[REPLY]}; fi
  # FUSE records who mounted it (user_id): another user's mount is theirs to restart, not root's.
  s3fs_option "$opts" user_id
  if [[ -z $idx ]]; then
    status=notMounted reason="$dir is not mounted: if it should be, this is an outage"
  elif [[ $type != fuse.s3fs ]]; then
    status=refused reason="$dir is $type, not fuse.s3fs"
  elif [[ ${REPLY:-0} != 0 ]]; then
    status=refused reason="$dir was mounted by uid $REPLY, not root: only its owner can mount it again"
    if ((ALL_S3FS)); then status=skipped; fi
  fi
  if [[ -z $status ]]; then
    s3fs_daemons_for "$dir"
    pid=${DAEMON_PIDS[0]:-}
    if ((${#DAEMON_PIDS[@]} > 1)); then warnings+=("several s3fs processes name $dir: ${DAEMON_PIDS[*]}"); fi
    if [[ -n $pid ]]; then
      proc_rss_kib "$pid"
      rss_before=$REPLY
    fi
    mount_method "$dir" "$pid"
    find_holders "$dir" ${DAEMON_PIDS[@]+"${DAEMON_PIDS[@]}"}
    updatedb_pids_on "$dir"
    if [[ $METHOD == process ]]; then
      # Root will run this executable again: it must be root's own, in directories only root can change.
      exe=$(readlink -- "$R/proc/$pid/exe" 2>/dev/null) || exe=''
      if [[ -z $exe || $exe == *' (deleted)' ]]; then exe=$(command -v -- "${ARGV[0]:-s3fs}") || exe=''; fi
      SAVED_EXE=$(readlink -f -- "$exe" 2>/dev/null) || SAVED_EXE=''
      if [[ -z $SAVED_EXE || ! -f $SAVED_EXE ]]; then
        status=refused reason="cannot find the executable of s3fs process $pid: not unmounting $dir"
      elif ! trusted_path "$SAVED_EXE"; then
        status=refused reason="will not run $SAVED_EXE as root to mount $dir again: $TRUST_ERROR"
      fi
    fi
    if [[ -n $status ]]; then
      :
    elif [[ $METHOD == unknown ]]; then
      status=refused reason="cannot tell how $dir was mounted (no fstab line, no systemd unit, no s3fs process): not unmounting it"
    elif [[ -n $HOLDER_ERROR ]]; then
      status=deferred reason="could not list the processes using $dir: $HOLDER_ERROR"
    fi
  fi
  if [[ -z $status && $MODE == apply && ${#UPDATEDB_PIDS[@]} -gt 0 ]]; then
    # An updatedb crawling the mount only re-lists it; stopping it loses nothing.
    for p in "${UPDATEDB_PIDS[@]}"; do
      # Checked again just before the signal: still root's updatedb.
      proc_comm "$p"
      q=$REPLY
      proc_uid "$p"
      if [[ $q == updatedb* && $REPLY == 0 ]] && env kill -s TERM -- "$p"; then stopped+=("$p"); fi
    done
    if ((${#stopped[@]} > 0)) && ! wait_gone "$UPDATEDB_STOP_WAIT" "${stopped[@]}"; then
      warnings+=("updatedb still running ${UPDATEDB_STOP_WAIT}s after SIGTERM")
    fi
    find_holders "$dir" ${DAEMON_PIDS[@]+"${DAEMON_PIDS[@]}"}
    updatedb_pids_on "$dir"
  fi
  if [[ -z $status ]]; then
    for p in ${HOLDERS[@]+"${HOLDERS[@]}"}; do
      for q in ${UPDATEDB_PIDS[@]+"${UPDATEDB_PIDS[@]}"}; do [[ $p == "$q" ]] && continue 2; done
      others+=("$p")
    done
    if ((${#others[@]} > 0)); then
      status=deferred reason="${#others[@]} process(es) hold files on $dir: unmounting now could lose their data"
    elif [[ $MODE == check && ${#UPDATEDB_PIDS[@]} -gt 0 ]]; then
      status=deferred reason="updatedb is crawling $dir (apply mode stops it)"
    elif [[ $MODE == check ]]; then
      status=ready reason="no process holds $dir; apply would unmount it and mount it again ($METHOD)"
    elif ((${#UPDATEDB_PIDS[@]} > 0)); then
      status=deferred reason="updatedb kept crawling $dir after SIGTERM"
    fi
  fi
  if [[ -z $status ]]; then
    # Everything needed to mount again is read before the mount goes away (SAVED_EXE: checked above).
    SAVED_CWD=/ SAVED_ARGV=() SAVED_ENV=()
    if [[ $METHOD == process ]]; then
      proc_argv "$pid"
      SAVED_ARGV=(${ARGV[@]+"${ARGV[@]}"})
      ((${#SAVED_ARGV[@]} > 0)) || SAVED_ARGV=(s3fs)
      SAVED_CWD=$(readlink -- "$R/proc/$pid/cwd" 2>/dev/null) || SAVED_CWD=/
      # NAME=value entries only: anything else would be taken by `env` for the command to run.
      while IFS= read -r -d '' kv && ((${#SAVED_ENV[@]} < 1000)); do
        if [[ $kv =~ ^[A-Za-z_][A-Za-z0-9_]*= ]]; then SAVED_ENV+=("$kv"); fi
      done <"$R/proc/$pid/environ" 2>/dev/null || true
    fi
    if ! out=$(umount -- "$dir" 2>&1); then
      status=deferred reason="umount refused, nothing changed: ${out:-non-zero exit}"
    else
      if ((${#DAEMON_PIDS[@]} > 0)); then
        if wait_gone "$DAEMON_EXIT_WAIT" "${DAEMON_PIDS[@]}"; then exited=true; else
          exited=false
          warnings+=("the old s3fs ($pid) was still running ${DAEMON_EXIT_WAIT}s after umount; it was left alone")
        fi
      fi
      if remount "$dir" ${DAEMON_PIDS[@]+"${DAEMON_PIDS[@]}"}; then
        status=restarted
        s3fs_daemons_for "$dir"
        pid_after=${DAEMON_PIDS[0]:-}
        if [[ -n $pid_after ]]; then
          proc_rss_kib "$pid_after"
          rss_after=$REPLY
        fi
      else
        status=failed reason="OUTAGE: $dir is not back after $ATTEMPTS attempts ($METHOD): $REMOUNT_ERROR"
      fi
    fi
  fi

  json_add_str o mountPoint "$dir"
  json_add_str_or_null o source "$src"
  json_add_str_or_null o type "$type"
  json_add_str o status "$status"
  json_add_str_or_null o reason "$reason"
  json_add_str o method "$METHOD"
  json_add_str_or_null o unit "$METHOD_UNIT"
  json_truncate "$METHOD_DETAIL" 500
  json_add_str_or_null o methodDetail "$REPLY"
  holders_json ${HOLDERS[@]+"${HOLDERS[@]}"}
  json_add o holders "$REPLY"
  json_add_bool o holdersTruncated "$((${#HOLDERS[@]} > MAX_HOLDERS))"
  json_add_str_or_null o holderSource "$HOLDER_SOURCE"
  json_num_array ${UPDATEDB_PIDS[@]+"${UPDATEDB_PIDS[@]}"}
  json_add o updatedbCrawling "$REPLY"
  json_num_array ${stopped[@]+"${stopped[@]}"}
  json_add o updatedbStopped "$REPLY"
  json_add_num o daemonPidBefore "$pid"
  json_add_num o daemonPidAfter "$pid_after"
  json_add_num o rssKiBBefore "$rss_before"
  json_add_num o rssKiBAfter "$rss_after"
  json_add o oldDaemonExited "$exited"
  json_add_num o remountAttempts "$ATTEMPTS"
  json_add_bool o verified "$VERIFIED"
  json_str_array 10 ${warnings[@]+"${warnings[@]}"}
  json_add o warnings "$REPLY"
  if ((MOUNT_COUNT < MAX_MOUNTS)); then MOUNTS_JSON+="${MOUNTS_JSON:+,}{$o}"; fi
  MOUNT_COUNT=$((MOUNT_COUNT + 1))

  case $status in
    restarted | ready) ACTED=$((ACTED + 1)) ;;
    failed | notMounted) WORST=1 ;;
    refused) ((WORST == 1)) || WORST=4 ;;
    deferred) ((WORST == 1 || WORST == 4)) || WORST=3 ;;
  esac
}

# json_num_array PID...: REPLY = JSON array of the integers given (at most 20).
json_num_array() {
  local out='' v n=0
  for v in "$@"; do
    ((n < 20)) || break
    n=$((n + 1))
    json_num "$v"
    out+="${out:+,}$REPLY"
  done
  REPLY="[$out]"
}

read_choice Mode check "$PATTERN_Mode"
MODE=$REPLY
read_list Mounts '' "$ITEM_Mounts"
TARGETS=(${LIST[@]+"${LIST[@]}"})
for delay in ${BACKOFF[@]+"${BACKOFF[@]}"}; do
  [[ $delay =~ ^[0-9]{1,3}$ ]] || finish badParameters 2 "CRAWLGUARD_TEST_BACKOFF must be whole seconds"
done

# One run at a time (two would unmount and remount the same mount together), locked where only root writes.
state_dir || finish refused 4 "cannot use the state directory: $TRUST_ERROR"
take_lock restart-s3fs || case $? in
  1) finish busy 3 "another crawlguard restart run holds the lock" ;;
  *) finish failed 1 "cannot take the lock: $LOCK_ERROR" ;;
esac

read_mounts
if ((${#TARGETS[@]} == 0)); then
  ALL_S3FS=1
  declare -A seen_dirs=()
  for ((i = 0; i < ${#MOUNT_DIR[@]}; i++)); do
    d=${MOUNT_DIR[i]}
    [[ ${MOUNT_TYPE[i]} == fuse.s3fs && -z ${seen_dirs[$d]:-} ]] || continue
    seen_dirs[$d]=1
    TARGETS+=("$d")
  done
  ((${#TARGETS[@]} > 0)) || finish nothingToDo 0 "no fuse.s3fs mount on this host"
fi

for target in "${TARGETS[@]}"; do restart_one "$target"; done

case $WORST in
  1) finish failed 1 "at least one mount is missing or failed: see mounts[].reason" ;;
  4) finish refused 4 "at least one mount was refused: see mounts[].reason" ;;
  3) finish deferred 3 "at least one mount was deferred: see mounts[].holders" ;;
esac
((ACTED > 0)) || finish nothingToDo 0 "no fuse.s3fs mount of root's on this host"
if [[ $MODE == check ]]; then finish checked 0 ''; fi
finish restarted 0 ''
