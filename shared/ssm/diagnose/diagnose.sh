#!/bin/bash
# crawlguard diagnose (read-only): which locate is installed and when it runs, what updatedb.conf
# prunes, every network/FUSE mount and whether updatedb would crawl it, the s3fs processes with their
# memory and cache options, and any updatedb running now. Changes nothing on the host.
# Output: one JSON object on stdout (fields in shared/ssm/README.md). No parameters.
# Exit codes: 0 diagnosed (whatever was found), 1 failed (internal error; the JSON says where)
set -Eeuo pipefail
export LC_ALL=C
# The agent's PATH may lack the sbin directories; the offline tests' PATH is exactly what they allow.
[[ -n ${CRAWLGUARD_TEST_ROOT:-} ]] || PATH=$PATH:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
# Everything a tool prints goes to stderr; fd 3 carries the single JSON document.
exec 3>&1 1>&2
cd /

readonly DOCUMENT=crawlguard-diagnose
readonly MAX_MOUNTS=40 MAX_PROCESSES=20
# Mount types that are network or FUSE filesystems, as /proc/mounts names them (plain fuse included:
# mountpoint-s3 and goofys mount as `fuse`).
readonly NETWORK_TYPES='^(fuse|fuse\..+|nfs|nfs4|cifs|smb3|smbfs|ceph|glusterfs|lustre|afs|ncpfs|davfs|9p)$'

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
# >>> embedded lib/updatedb-conf.sh (edit shared/ssm/lib/updatedb-conf.sh, then run: npm run ssm:sync)
# updatedb.conf reader/editor (any POSIX awk). The grammar is mlocate's src/conf.c, which plocate ports:
# one `NAME = "value"` per line, blank lines, `#` comments (also after a value), no escapes, no `+=`;
# known names PRUNEFS, PRUNEPATHS, PRUNE_BIND_MOUNTS (0|1|no|yes) and, for plocate, PRUNENAMES.
# A repeated or unknown name is an error that makes updatedb exit 1, so such files are refused, never edited.
#
# updatedb_conf_awk MODE FILE
#   MODE parse: stdout lines `fs|path|name<TAB>TOKEN`, `bind<TAB>VALUE`, `line<TAB>NAME<TAB>N`;
#               or one line `error<TAB>REASON`.
#   MODE patch: stdout = the edited file; report lines (`missingfs`, `missingpaths`, `change`, `error`)
#               go to the file named by UC_REPORT. Inputs: UC_ADD_FS, UC_ADD_PATHS (space-separated),
#               UC_FINAL_NL (1 when FILE ends with a newline or is empty).
updatedb_conf_awk() {
  UC_MODE=$1 awk 'BEGIN {
    WS = "[ \t\r\f\v]"
    NAME = "[A-Za-z_][A-Za-z0-9_]*"
    ASSIGN = "^" WS "*" NAME WS "*=" WS "*\"[^\"]*\"" WS "*(#.*)?$"
    known["PRUNEFS"] = 1; known["PRUNEPATHS"] = 1; known["PRUNE_BIND_MOUNTS"] = 1; known["PRUNENAMES"] = 1
    mode = ENVIRON["UC_MODE"]; report = ENVIRON["UC_REPORT"]; n = 0
  }
  { n++; line[n] = $0 }
  function shown(s) { gsub(/\t/, " ", s); if (length(s) > 120) s = substr(s, 1, 120) "..."; return s }
  function describe(s, i) {
    if (s ~ ("^" WS "*" NAME WS "*[+]=")) return "line " i ": `+=` is not valid in updatedb.conf (each name is set once): " shown(s)
    if (s ~ ("^" WS "*" NAME WS "*=" WS "*\"[^\"]*$")) return "line " i ": missing closing quote: " shown(s)
    if (s ~ ("^" WS "*" NAME WS "*=" WS "*\"[^\"]*\"")) return "line " i ": unexpected data after the value: " shown(s)
    if (s ~ ("^" WS "*" NAME WS "*=")) return "line " i ": value in double quotes expected: " shown(s)
    return "line " i ": not a NAME = \"value\" line or a comment: " shown(s)
  }
  function fail(msg) {
    if (mode == "patch") print "error\t" msg > report
    else print "error\t" msg
    exit 0
  }
  END {
    style = ""
    for (i = 1; i <= n; i++) {
      s = line[i]
      if (s ~ ("^" WS "*$") || s ~ ("^" WS "*#")) continue
      if (s !~ ASSIGN) fail(describe(s, i))
      t = s; sub("^" WS "*", "", t); match(t, "^" NAME); name = substr(t, 1, RLENGTH)
      if (!(name in known)) fail("line " i ": unknown variable " name)
      if (name in at) fail("line " i ": variable " name " is already defined on line " at[name])
      at[name] = i
      p = index(s, "\""); rest = substr(s, p + 1); q = index(rest, "\"")
      val[name] = substr(rest, 1, q - 1); pre[name] = substr(s, 1, p); post[name] = substr(rest, q)
      if (style == "") { t = substr(s, 1, p - 1); sub("^" WS "*" NAME, "", t); style = t }
      if (name == "PRUNE_BIND_MOUNTS" && val[name] !~ /^(0|1|no|yes)$/)
        fail("line " i ": PRUNE_BIND_MOUNTS must be 0, 1, no or yes, not \"" shown(val[name]) "\"")
    }
    if (mode == "parse") {
      split("PRUNEFS fs PRUNEPATHS path PRUNENAMES name", kinds, " ")
      for (k = 1; k < 6; k += 2) {
        if (!(kinds[k] in at)) continue
        print "line\t" kinds[k] "\t" at[kinds[k]]
        c = split(val[kinds[k]], tok, WS "+")
        for (j = 1; j <= c; j++) if (tok[j] != "") print kinds[k + 1] "\t" tok[j]
      }
      if ("PRUNE_BIND_MOUNTS" in at) print "bind\t" val["PRUNE_BIND_MOUNTS"]
      exit 0
    }
    if (style == "") style = " = "
    eol = (n > 0 && line[n] ~ /\r$/) ? "\r" : ""
    added = ""
    split("PRUNEFS UC_ADD_FS missingfs PRUNEPATHS UC_ADD_PATHS missingpaths", spec, " ")
    for (k = 1; k < 7; k += 3) {
      v = spec[k]; delete have; missing = ""
      c = split(val[v], tok, WS "+")
      for (j = 1; j <= c; j++) if (tok[j] != "") have[v == "PRUNEFS" ? toupper(tok[j]) : tok[j]] = 1
      c = split(ENVIRON[spec[k + 1]], want, " ")
      for (j = 1; j <= c; j++) {
        key = v == "PRUNEFS" ? toupper(want[j]) : want[j]
        if (want[j] == "" || key in have) continue
        have[key] = 1; missing = missing (missing == "" ? "" : " ") want[j]
      }
      print spec[k + 2] "\t" missing > report
      if (missing == "") continue
      if (v in at) {
        sp = (val[v] == "" || val[v] ~ (WS "$")) ? "" : " "
        line[at[v]] = pre[v] val[v] sp missing post[v]
        print "change\t" v "\tedited\t" at[v] "\t" missing > report
      } else {
        added = added (added == "" ? "" : "\n") v style "\"" missing "\"" eol
        print "change\t" v "\tadded\t" (n + (added ~ /\n/ ? 2 : 1)) "\t" missing > report
      }
    }
    # Printed line by line: appending each line to one string copies it again each time under mawk.
    for (i = 1; i <= n; i++) printf "%s%s", (i > 1 ? "\n" : ""), line[i]
    if (added != "") printf "%s%s", (n > 0 ? "\n" : ""), added
    if (ENVIRON["UC_FINAL_NL"] == "1" || n == 0) printf "\n"
  }' "$2"
}

# CONF_MAX_BYTES: the largest updatedb.conf read or edited (a real one has a few dozen lines, ~1 KB).
readonly CONF_MAX_BYTES=65536

# shellcheck disable=SC2034 # the LOCATE_* results are read by the callers
# locate_detect CONF: LOCATE_UPDATEDB = path of updatedb (empty when none), LOCATE_VERSION = its first
# `--version` line, LOCATE_IMPL = plocate | mlocate | findutils | unknown | none, LOCATE_FROM = what told
# (version | executable | package). updatedb parses CONF before anything else, `--version` included: it
# fails on a malformed file (the executable's real name, then its package, still tell), and a FIFO there
# hangs it, so it runs only when CONF is a regular file or absent.
locate_detect() {
  local p real owner
  LOCATE_UPDATEDB='' LOCATE_IMPL=none LOCATE_VERSION='' LOCATE_FROM=''
  for p in updatedb updatedb.plocate updatedb.mlocate; do
    if LOCATE_UPDATEDB=$(command -v "$p"); then break; fi
  done
  [[ -n $LOCATE_UPDATEDB ]] || return 0
  if [[ -f $1 || ! -e $1 ]]; then
    LOCATE_VERSION=$(timeout 10 "$LOCATE_UPDATEDB" --version 2>/dev/null 9<&-) || true
  fi
  LOCATE_VERSION=${LOCATE_VERSION%%$'\n'*}
  real=$(readlink -f -- "$LOCATE_UPDATEDB" 2>/dev/null) || real=$LOCATE_UPDATEDB
  # Debian/Ubuntu: updatedb -> /etc/alternatives/updatedb -> updatedb.plocate; RHEL: the package owns it.
  for p in version executable package; do
    case $p in
      version) owner=$LOCATE_VERSION ;;
      executable) owner=${real##*/} ;;
      package) owner=$({ timeout 10 rpm -qf --queryformat '%{NAME}\n' "$real" || timeout 10 dpkg-query -S "$real"; } 2>/dev/null 9<&-) || true ;;
    esac
    case $owner in
      *plocate*) LOCATE_IMPL=plocate ;;
      *mlocate*) LOCATE_IMPL=mlocate ;;
      *findutils* | locate:*) LOCATE_IMPL=findutils ;;
      *) continue ;;
    esac
    LOCATE_FROM=$p
    return 0
  done
  LOCATE_IMPL=unknown
}
# <<< embedded lib/updatedb-conf.sh
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

# Test-only prefix for every file this script reads; empty on a real instance.
R=${CRAWLGUARD_TEST_ROOT:-}
EMITTED=0 ERR_LINE='' ERR_CMD=''

# shellcheck disable=SC2317 # runs from the EXIT trap
on_exit() {
  local rc=$? o=''
  if [[ $EMITTED == 0 ]]; then
    trap - EXIT
    json_add_str o document "$DOCUMENT"
    json_add o outputVersion 1
    json_add_str o status failed
    json_add_str o reason "internal error: exit $rc at line ${ERR_LINE:-?} (${ERR_CMD:-?})"
    json_add o exitCode 1
    printf '{%s}\n' "$o" >&3
    exit 1
  fi
}
trap on_exit EXIT
trap 'ERR_LINE=$LINENO; ERR_CMD=$BASH_COMMAND' ERR

# Every file is read through read_bounded (lib/files.sh): at most READ_MAX bytes, within 10 s.
readonly READ_MAX=262144

# iso_mtime PATH: REPLY = the file's modification time as ISO 8601 UTC, empty when it does not exist.
iso_mtime() {
  local seconds
  REPLY=''
  seconds=$(stat -c %Y -- "$1" 2>/dev/null) || return 0
  REPLY=$(date -u -d "@$seconds" +%Y-%m-%dT%H:%M:%SZ 2>/dev/null) || REPLY=''
}

# unit_setting FILE... KEY: REPLY = the last `KEY=` value in the unit files given (drop-ins last).
unit_setting() {
  local key=${*: -1} file line value=''
  for file in "${@:1:$#-1}"; do
    read_bounded "$file" "$READ_MAX" || continue
    while IFS= read -r line || [[ -n $line ]]; do
      if [[ $line =~ ^[[:space:]]*${key}[[:space:]]*=[[:space:]]*(.*)$ ]]; then value=${BASH_REMATCH[1]}; fi
    done <<<"$REPLY"
  done
  REPLY=$value
}

# --- host --------------------------------------------------------------------------------------------
host=''
read_bounded "$R/proc/sys/kernel/hostname" 256 || true
json_add_str_or_null host hostname "${REPLY%$'\n'}"
read_bounded "$R/proc/sys/kernel/osrelease" 256 || true
json_add_str_or_null host kernel "${REPLY%$'\n'}"
os_id='' os_version='' os_name=''
if read_bounded "$R/etc/os-release" "$READ_MAX"; then
  while IFS='=' read -r key value; do
    value=${value#[\"\']}
    value=${value%[\"\']}
    case $key in ID) os_id=$value ;; VERSION_ID) os_version=$value ;; PRETTY_NAME) os_name=$value ;; esac
  done <<<"$REPLY"
fi
json_add_str_or_null host osId "$os_id"
json_add_str_or_null host osVersionId "$os_version"
json_add_str_or_null host osPrettyName "$os_name"
if systemd_running; then init=systemd; else init=other; fi
json_add_str host initSystem "$init"

# --- locate and its schedule -------------------------------------------------------------------------
locate_detect "$R/etc/updatedb.conf"
locate=''
json_add_str locate implementation "$LOCATE_IMPL"
json_add_str_or_null locate updatedbPath "$LOCATE_UPDATEDB"
json_add_str_or_null locate version "$LOCATE_VERSION"
json_add_str_or_null locate identifiedBy "$LOCATE_FROM"

schedule=''
cron_script='' exits_under_systemd=null adds_nodevs=false
for name in plocate mlocate locate updatedb; do
  if [[ -f $R/etc/cron.daily/$name && -x $R/etc/cron.daily/$name ]]; then
    cron_script=/etc/cron.daily/$name
    break
  fi
done
if [[ -n $cron_script ]]; then
  read_bounded "$R$cron_script" "$READ_MAX" || true
  if [[ $REPLY == */run/systemd/system* ]]; then exits_under_systemd=true; else exits_under_systemd=false; fi
  # RHEL/Amazon Linux pass `-f "$nodevs"` (every nodev type of /proc/filesystems: plain fuse, never fuse.s3fs).
  if [[ $REPLY == */proc/filesystems* ]]; then adds_nodevs=true; fi
fi
if read_bounded "$R/usr/libexec/mlocate-run-updatedb" "$READ_MAX" && [[ $REPLY == */proc/filesystems* ]]; then
  adds_nodevs=true
fi
cron=''
json_add_str_or_null cron script "$cron_script"
json_add cron exitsUnderSystemd "$exits_under_systemd"
json_add cron addsNodevFilesystems "$adds_nodevs"
json_add schedule cronDaily "{$cron}"

crontab_time=''
if read_bounded "$R/etc/crontab" "$READ_MAX"; then
  while read -r m h dom mon dow rest; do
    [[ $m == \#* || -z $m ]] && continue
    if [[ $rest == *cron.daily* || $dow == *cron.daily* ]]; then crontab_time="$m $h $dom $mon $dow"; fi
  done <<<"$REPLY"
fi
json_add_str_or_null schedule crontabDailyTime "$crontab_time"

anacron='' ana_line='' ana_hours='' ana_delay='' ana_present=false
if read_bounded "$R/etc/anacrontab" "$READ_MAX"; then
  ana_present=true
  while IFS= read -r line || [[ -n $line ]]; do
    case $line in
      START_HOURS_RANGE=*) ana_hours=${line#*=} ;;
      RANDOM_DELAY=*) ana_delay=${line#*=} ;;
      \#*) ;;
      *cron.daily*) ana_line=$line ;;
    esac
  done <<<"$REPLY"
fi
json_add anacron present "$ana_present"
json_add_str_or_null anacron line "$ana_line"
json_add_str_or_null anacron startHoursRange "$ana_hours"
json_add_str_or_null anacron randomDelay "$ana_delay"
json_add schedule anacron "{$anacron}"

cron_daemon=absent
for name in cron crond cronie busybox-crond; do
  if command -v "$name" >/dev/null || [[ -x $R/usr/sbin/$name ]]; then cron_daemon=installed; fi
done
list_pids
for pid in ${PIDS[@]+"${PIDS[@]}"}; do
  proc_comm "$pid"
  case $REPLY in cron | crond | anacron) cron_daemon=running ;; esac
done
json_add_str schedule cronDaemon "$cron_daemon"

timer_json=null timer_enabled=''
for unit in plocate-updatedb.timer mlocate-updatedb.timer updatedb.timer; do
  files=()
  for dir in /etc/systemd/system /run/systemd/system /usr/lib/systemd/system /lib/systemd/system; do
    if [[ -f $R$dir/$unit ]]; then
      files=("$R$dir/$unit")
      break
    fi
  done
  ((${#files[@]} > 0)) || continue
  for dropin in "$R/etc/systemd/system/$unit.d/"*.conf; do [[ -f $dropin ]] && files+=("$dropin"); done
  t=''
  json_add_str t unit "$unit"
  json_add_str t unitFile "${files[0]#"$R"}"
  unit_setting "${files[@]}" OnCalendar
  json_add_str_or_null t onCalendar "$REPLY"
  unit_setting "${files[@]}" RandomizedDelaySec
  json_add_str_or_null t randomizedDelaySec "$REPLY"
  unit_setting "${files[@]}" Persistent
  json_add_str_or_null t persistent "$REPLY"
  enabled='' active='' last='' next=''
  if [[ $init == systemd ]]; then
    enabled=$(timeout 10 systemctl is-enabled -- "$unit" 2>/dev/null) || true
    active=$(timeout 10 systemctl is-active -- "$unit" 2>/dev/null) || true
    last=$(timeout 10 systemctl show -p LastTriggerUSec --value -- "$unit" 2>/dev/null) || true
    next=$(timeout 10 systemctl show -p NextElapseUSecRealtime --value -- "$unit" 2>/dev/null) || true
    json_add_str t source systemctl
  else
    if [[ -e $R/etc/systemd/system/timers.target.wants/$unit ]]; then enabled=enabled; else enabled=disabled; fi
    json_add_str t source unitFiles
  fi
  timer_enabled=$enabled
  json_add_str_or_null t enabled "$enabled"
  json_add_str_or_null t active "$active"
  json_add_str_or_null t lastTrigger "${last#n/a}"
  json_add_str_or_null t nextElapse "${next#n/a}"
  timer_json="{$t}"
  break
done
json_add schedule systemdTimer "$timer_json"

# What actually starts updatedb each day on this host.
if [[ $LOCATE_IMPL == none ]]; then
  effective=none
elif [[ $init == systemd && $timer_json != null && $timer_enabled == enabled ]]; then
  effective=systemdTimer
elif [[ -n $cron_script && $cron_daemon != absent && ! ($init == systemd && $exits_under_systemd == true) ]]; then
  effective=cronDaily
elif [[ $init != systemd && $cron_daemon == absent ]]; then
  # Neither systemd nor a cron daemon runs here: nothing starts the daily job.
  effective=none
else
  effective=unknown
fi
json_add_str schedule effective "$effective"

last_run=null
for db in /var/lib/plocate/plocate.db /var/lib/mlocate/mlocate.db; do
  if [[ -e $R$db ]]; then
    iso_mtime "$R$db"
    modified=$REPLY o=''
    json_add_str o database "$db"
    json_add_str_or_null o modified "$modified"
    last_run="{$o}"
    break
  fi
done

# --- updatedb.conf -----------------------------------------------------------------------------------
config='' conf_error='' conf_unread='' prune_fs=() prune_paths=() prune_names=() bind=''
json_add_str config path /etc/updatedb.conf
# As updatedb sees it: a link is followed.
file_type "$R/etc/updatedb.conf" follow
conf_type=$REPLY
json_add_bool config exists "$([[ $conf_type != absent ]] && echo true)"
json_add_str config fileType "$conf_type"
if [[ $conf_type == regular ]]; then
  read_bounded "$R/etc/updatedb.conf" "$CONF_MAX_BYTES" || true
  if ((READ_TRUNCATED)); then
    conf_unread="/etc/updatedb.conf is larger than $CONF_MAX_BYTES bytes: not parsed"
  else
    while IFS=$'\t' read -r kind value _; do
      case $kind in
        error) conf_error=$value ;;
        fs) prune_fs+=("$value") ;;
        path) prune_paths+=("$value") ;;
        name) prune_names+=("$value") ;;
        bind) bind=$value ;;
      esac
    done < <(updatedb_conf_awk parse - <<<"$REPLY")
  fi
elif [[ $conf_type != absent ]]; then
  conf_error="/etc/updatedb.conf is a $conf_type, not a regular file: updatedb hangs or fails reading it"
fi
json_str_array 120 ${prune_fs[@]+"${prune_fs[@]}"}
json_add config pruneFs "$REPLY"
json_add_bool config pruneFsTruncated "$JSON_TRUNCATED"
json_str_array 60 ${prune_paths[@]+"${prune_paths[@]}"}
json_add config prunePaths "$REPLY"
json_add_bool config prunePathsTruncated "$JSON_TRUNCATED"
json_str_array 30 ${prune_names[@]+"${prune_names[@]}"}
json_add config pruneNames "$REPLY"
json_add_str_or_null config pruneBindMounts "$bind"
json_add_str_or_null config error "${conf_error:-$conf_unread}"

declare -A pruned_type=()
for t in ${prune_fs[@]+"${prune_fs[@]}"}; do pruned_type[${t^^}]=prunefs; done
if [[ $adds_nodevs == true ]] && read_bounded "$R/proc/filesystems" "$READ_MAX"; then
  while read -r a b; do
    if [[ $a == nodev && $b != rootfs && $b != zfs && -z ${pruned_type[${b^^}]:-} ]]; then pruned_type[${b^^}]=nodev; fi
  done <<<"$REPLY"
fi

# crawl_verdict DIR TYPE: CRAWLED (true|false|null) and CRAWL_REASON, as updatedb would decide today.
crawl_verdict() {
  local dir=$1 type=$2 p i a
  CRAWLED=true CRAWL_REASON="not pruned: updatedb lists every directory and file (for s3fs, each one an S3 request)"
  if [[ $LOCATE_IMPL == none ]]; then
    CRAWLED=false CRAWL_REASON="no updatedb installed"
    return
  fi
  if [[ -n $conf_error ]]; then
    CRAWLED=false CRAWL_REASON="updatedb rejects its configuration and indexes nothing: $conf_error"
    return
  fi
  if [[ -n $conf_unread ]]; then
    CRAWLED=null CRAWL_REASON="cannot tell: $conf_unread"
    return
  fi
  case ${pruned_type[${type^^}]:-} in
    prunefs) CRAWLED=false CRAWL_REASON="PRUNEFS has $type" && return ;;
    nodev) CRAWLED=false CRAWL_REASON="the daily job adds $type (a nodev filesystem) with -f" && return ;;
  esac
  for p in ${prune_paths[@]+"${prune_paths[@]}"}; do
    if [[ $dir == "$p" || $dir == "$p"/* || $p == / ]]; then
      CRAWLED=false CRAWL_REASON="PRUNEPATHS has $p"
      return
    fi
  done
  # updatedb does not descend into a pruned filesystem, so nothing mounted below one is crawled.
  for ((i = 0; i < ${#MOUNT_DIR[@]}; i++)); do
    a=${MOUNT_DIR[i]}
    [[ $a != "$dir" && ($a == / || $dir == "$a"/*) ]] || continue
    if [[ -n ${pruned_type[${MOUNT_TYPE[i]^^}]:-} ]]; then
      CRAWLED=false CRAWL_REASON="below $a (${MOUNT_TYPE[i]}), which is pruned"
      return
    fi
  done
}

# --- mounts and s3fs processes -----------------------------------------------------------------------
read_mounts
mounts='' mount_count=0 crawled_count=0 s3fs_count=0
declare -A seen_dir=()
for ((i = ${#MOUNT_DIR[@]} - 1; i >= 0; i--)); do
  dir=${MOUNT_DIR[i]} type=${MOUNT_TYPE[i]}
  [[ $type =~ $NETWORK_TYPES && -z ${seen_dir[$dir]:-} ]] || continue
  seen_dir[$dir]=1
  mount_count=$((mount_count + 1))
  ((mount_count <= MAX_MOUNTS)) || continue
  pid=''
  if [[ $type == fuse.s3fs ]]; then
    s3fs_count=$((s3fs_count + 1))
    # The daemon runs as whoever mounted it (FUSE's user_id option).
    s3fs_option "${MOUNT_OPTS[i]}" user_id
    s3fs_daemons_for "$dir" "${REPLY:-0}"
    pid=${DAEMON_PIDS[0]:-}
  fi
  mount_method "$dir" "$pid"
  crawl_verdict "$dir" "$type"
  [[ $CRAWLED == true ]] && crawled_count=$((crawled_count + 1))
  o=''
  json_add_str o mountPoint "$dir"
  json_add_str o type "$type"
  json_add_str o source "${MOUNT_SRC[i]}"
  json_add_str o mountedBy "$METHOD"
  json_add_str_or_null o unit "$METHOD_UNIT"
  fstab_entry "$dir" || true
  json_truncate "$FSTAB_LINE" 400
  json_add_str_or_null o fstabLine "$REPLY"
  json_add_num o daemonPid "$pid"
  json_add o crawled "$CRAWLED"
  json_add_str o crawlReason "$CRAWL_REASON"
  mounts+="${mounts:+,}{$o}"
done

processes='' process_count=0
list_pids
for pid in ${PIDS[@]+"${PIDS[@]}"}; do
  proc_comm "$pid"
  if [[ $REPLY != s3fs ]] || ! proc_alive "$pid"; then continue; fi
  process_count=$((process_count + 1))
  ((process_count <= MAX_PROCESSES)) || continue
  proc_argv "$pid"
  ((${#ARGV[@]} > 1)) || continue
  mnt=''
  for arg in "${ARGV[@]:1}"; do
    if [[ -n ${seen_dir[${arg%/}]:-} ]]; then mnt=${arg%/}; fi
  done
  s3fs_argv_options
  opts=$REPLY
  names=()
  IFS=, read -r -a items <<<"$opts"
  for item in ${items[@]+"${items[@]}"}; do names+=("${item%%=*}"); done
  o=''
  json_add_num o pid "$pid"
  json_add_str_or_null o mountPoint "$mnt"
  proc_rss_kib "$pid"
  json_add_num o rssKiB "$REPLY"
  s3fs_option "$opts" max_stat_cache_size
  json_add_num o maxStatCacheSize "$REPLY"
  s3fs_option "$opts" stat_cache_expire
  json_add_num o statCacheExpire "$REPLY"
  # Option names only: values can hold credentials paths or endpoints the report does not need.
  json_str_array 40 ${names[@]+"${names[@]}"}
  json_add o optionNames "$REPLY"
  processes+="${processes:+,}{$o}"
done

# --- updatedb running now ----------------------------------------------------------------------------
running='' running_count=0
for pid in ${PIDS[@]+"${PIDS[@]}"}; do
  proc_comm "$pid"
  if [[ $REPLY != updatedb* ]] || ! proc_alive "$pid"; then continue; fi
  comm=$REPLY
  running_count=$((running_count + 1))
  ((running_count <= 10)) || continue
  cwd=$(readlink -- "$R/proc/$pid/cwd" 2>/dev/null) || cwd=''
  crawling=''
  # The deepest network mount holding one of its open directories or its cwd is where it is now.
  while IFS= read -r target; do
    for dir in "${!seen_dir[@]}"; do
      if [[ ($target == "$dir" || $target == "$dir"/*) && ${#dir} -gt ${#crawling} ]]; then crawling=$dir; fi
    done
  done < <(find "$R/proc/$pid/fd" "$R/proc/$pid/cwd" -maxdepth 1 -type l -printf '%l\n' 2>/dev/null || true)
  o=''
  json_add_num o pid "$pid"
  json_add_str o command "$comm"
  json_add_str_or_null o cwd "$cwd"
  json_add_str_or_null o crawlingMount "$crawling"
  running+="${running:+,}{$o}"
done

# --- the document ------------------------------------------------------------------------------------
summary=''
json_add_num summary networkMounts "$mount_count"
json_add_num summary s3fsMounts "$s3fs_count"
json_add_num summary crawledMounts "$crawled_count"
json_add_bool summary updatedbRunning "$((running_count > 0))"
doc=''
json_add_str doc document "$DOCUMENT"
json_add doc outputVersion 1
json_add_str doc status ok
json_add doc summary "{$summary}"
json_add doc host "{$host}"
json_add doc locate "{$locate}"
json_add doc schedule "{$schedule}"
json_add doc lastRun "$last_run"
json_add doc config "{$config}"
json_add doc mounts "[$mounts]"
json_add_bool doc mountsTruncated "$((mount_count > MAX_MOUNTS))"
json_add doc s3fsProcesses "[$processes]"
json_add_bool doc s3fsProcessesTruncated "$((process_count > MAX_PROCESSES))"
json_add doc updatedbRunning "[$running]"
json_add doc exitCode 0
if ((${#doc} > 23000)); then
  # Keep the verdicts, drop the long lists: SSM cuts stdout at 24,000 characters.
  doc=''
  json_add_str doc document "$DOCUMENT"
  json_add doc outputVersion 1
  json_add_str doc status ok
  json_add doc summary "{$summary}"
  json_add doc locate "{$locate}"
  json_add doc schedule "{$schedule}"
  json_add doc outputTruncated true
  json_add doc exitCode 0
fi
printf '{%s}\n' "$doc" >&3
EMITTED=1
