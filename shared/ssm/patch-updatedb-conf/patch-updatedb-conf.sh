#!/bin/bash
# crawlguard patch-updatedb-conf: adds filesystem types (PRUNEFS) and mount points (PRUNEPATHS) to
# /etc/updatedb.conf so that updatedb stops crawling network mounts. Output: one JSON object on stdout
# (fields in shared/ssm/README.md). Parameters arrive as SSM_Mode, SSM_PruneFsTypes, SSM_PrunePaths.
# Exit codes: 0 compliant (alreadyCompliant, patched, notInstalled; nonCompliant in check mode)
#             1 failed (I/O or validation error; the previous file was put back)
#             2 bad parameters   3 busy (another run holds the lock)
#             4 refused (file malformed, already rejected by updatedb, or not a regular file; untouched)
set -Eeuo pipefail
export LC_ALL=C
# The agent's PATH may lack the sbin directories; the offline tests' PATH is exactly what they allow.
[[ -n ${CRAWLGUARD_TEST_ROOT:-} ]] || PATH=$PATH:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
# Everything a tool prints goes to stderr; fd 3 carries the single JSON document.
exec 3>&1 1>&2
umask 077
# Our working directory must never hold a mount busy.
cd /

readonly DOCUMENT=crawlguard-patch-updatedb-conf
# Parameter syntax: the documents' allowedPattern of a list is ^$|^ITEM(,ITEM){0,19}$ (a test checks it).
readonly PATTERN_Mode='^(check|apply)$'
readonly ITEM_PruneFsTypes='[A-Za-z0-9][A-Za-z0-9_+-]{0,40}(\.[A-Za-z0-9][A-Za-z0-9_+-]{0,40})?'
readonly ITEM_PrunePaths='(/\.?[A-Za-z0-9_@+-]+(\.[A-Za-z0-9_@+-]+)*){1,16}'

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

# Test-only prefix for the files this script reads and writes; empty on a real instance.
R=${CRAWLGUARD_TEST_ROOT:-}
CONF=$R/etc/updatedb.conf
ETC_DIR=$R/etc
MODE='' FS_LIST=() PATH_LIST=() LIST=() WORK='' TMP_CONF='' EMITTED=0 ERR_LINE='' ERR_CMD=''
CONF_EXISTED=false CHANGED=false VALIDATED=null RESTORED=false BACKUP='' UPDATEDB_MSG=''
MISSING_FS=() MISSING_PATHS=() CHANGES='' VALIDATION=''

# finish STATUS EXIT COMPLIANT REASON: prints the JSON document and exits.
finish() {
  local o='' status=$1 code=$2 compliant=$3 reason=$4
  json_add_str o document "$DOCUMENT"
  json_add o outputVersion 1
  json_add_str_or_null o mode "$MODE"
  json_add_str o status "$status"
  json_add o compliant "$compliant"
  json_add o changed "$CHANGED"
  json_add_str o configPath "$CONF"
  json_add o configExisted "$CONF_EXISTED"
  json_add_str_or_null o locateImplementation "${LOCATE_IMPL:-}"
  json_add_str_or_null o updatedbPath "${LOCATE_UPDATEDB:-}"
  json_str_array 20 ${FS_LIST[@]+"${FS_LIST[@]}"}
  json_add o pruneFsRequested "$REPLY"
  json_str_array 20 ${PATH_LIST[@]+"${PATH_LIST[@]}"}
  json_add o prunePathsRequested "$REPLY"
  json_str_array 20 ${MISSING_FS[@]+"${MISSING_FS[@]}"}
  json_add o missingPruneFs "$REPLY"
  json_str_array 20 ${MISSING_PATHS[@]+"${MISSING_PATHS[@]}"}
  json_add o missingPrunePaths "$REPLY"
  json_add o changes "[$CHANGES]"
  json_add_str_or_null o backupPath "$BACKUP"
  json_add o validated "$VALIDATED"
  json_add_str_or_null o validation "$VALIDATION"
  json_add o restored "$RESTORED"
  json_truncate "$reason" 2000
  json_add_str_or_null o reason "$REPLY"
  json_truncate "$UPDATEDB_MSG" 2000
  json_add_str_or_null o updatedbMessage "$REPLY"
  json_add o exitCode "$code"
  if ((${#o} > 23000)); then
    # Unreachable with bounded parameters; kept so that stdout never exceeds what SSM returns.
    o=''
    json_add_str o document "$DOCUMENT"
    json_add o outputVersion 1
    json_add_str_or_null o mode "$MODE"
    json_add_str o status "$status"
    json_add o compliant "$compliant"
    json_add o changed "$CHANGED"
    json_add_str_or_null o backupPath "$BACKUP"
    json_add o outputTruncated true
    json_add o exitCode "$code"
  fi
  printf '{%s}\n' "$o" >&3
  EMITTED=1
  exit "$code"
}

# shellcheck disable=SC2317 # runs from the EXIT trap
on_exit() {
  local rc=$?
  if [[ -n $TMP_CONF ]]; then rm -f -- "$TMP_CONF"; fi
  if [[ -n $WORK ]]; then rm -rf -- "$WORK"; fi
  if [[ $EMITTED == 0 ]]; then
    [[ -z $BACKUP ]] || drop_backup
    trap - EXIT
    finish failed 1 false "internal error: exit $rc at line ${ERR_LINE:-?} (${ERR_CMD:-?})"
  fi
}
trap on_exit EXIT
trap 'ERR_LINE=$LINENO; ERR_CMD=$BASH_COMMAND' ERR

# bad_parameters REASON: the badParameters document (exit 2), for lib/params.sh.
bad_parameters() {
  finish badParameters 2 false "$1"
}

# validate_config DEPTH: asks the real updatedb whether it accepts /etc/updatedb.conf (no option makes it
# read another file). DEPTH parse: `updatedb --help` -- mlocate and plocate parse that file before their
# arguments (mlocate conf_prepare) and exit 1 on any error in it, in milliseconds; used on the file as found.
# DEPTH run: an empty run (`updatedb -U EMPTYDIR -o TMPDB`), the daily job's own path without a crawl
# (plocate briefly takes the 128 MB buffer it takes every night); used after every write, and for an
# updatedb of unknown kind.
validate_config() {
  local d rc=0
  if [[ $1 == parse && ($LOCATE_IMPL == plocate || $LOCATE_IMPL == mlocate) ]]; then
    VALIDATION=parse
    UPDATEDB_MSG=$(timeout 60 "$LOCATE_UPDATEDB" --help 2>&1 >/dev/null 9<&-) || rc=$?
    return "$rc"
  fi
  VALIDATION=emptyRun
  d=$(mktemp -d -- "$WORK/validate.XXXXXX") || return 1
  mkdir "$d/root" || return 1
  UPDATEDB_MSG=$(timeout 120 "$LOCATE_UPDATEDB" -U "$d/root" -o "$d/validate.db" 2>&1 9<&-) || rc=$?
  rm -rf -- "$d"
  return "$rc"
}

# write_problem: REPLY = why $CONF could not be replaced (empty when it can): /etc not root's, read-only,
# or the file immutable or append-only (chattr +i / +a), which rename(2) and link(2) refuse.
write_problem() {
  local flags
  REPLY=''
  if ! trusted_path "$ETC_DIR"; then
    REPLY=$TRUST_ERROR
  elif [[ ! -w $ETC_DIR ]]; then
    REPLY="$ETC_DIR cannot be written (read-only filesystem or immutable directory)"
  elif [[ $CONF_EXISTED == true ]]; then
    flags=$(timeout 10 lsattr -d -- "$CONF" 2>/dev/null 9<&-) || flags=''
    case ${flags%% *} in
      *i*) REPLY="$CONF is immutable (chattr +i)" ;;
      *a*) REPLY="$CONF is append-only (chattr +a)" ;;
    esac
  fi
}

# attempt CMD...: runs CMD; when it fails, INSTALL_ERROR = what it said and it returns 1.
attempt() {
  local err
  if err=$("$@" 2>&1 >/dev/null); then return 0; fi
  INSTALL_ERROR=${err:-$1 failed}
  return 1
}

# install_conf SOURCE: puts SOURCE's bytes at $CONF, atomically: a new file beside it with the old one's
# mode, owner, ACLs and labels (copied from BACKUP, the old file's own inode), renamed over it; when no
# file existed, linked into place (never over a file that appeared meanwhile). On failure it removes what
# it created, leaves $CONF untouched and returns 1 with INSTALL_ERROR.
install_conf() {
  INSTALL_ERROR=''
  if ! TMP_CONF=$(mktemp -- "$ETC_DIR/.updatedb.conf.crawlguard.XXXXXX" 2>&1); then
    INSTALL_ERROR=$TMP_CONF TMP_CONF=''
    return 1
  fi
  if { if [[ -n $BACKUP ]]; then attempt cp --attributes-only --preserve=all -- "$BACKUP" "$TMP_CONF"; else
    attempt chmod 0644 -- "$TMP_CONF"
  fi; } && attempt cp -- "$1" "$TMP_CONF" && attempt cmp -- "$1" "$TMP_CONF" &&
    if [[ -n $BACKUP ]]; then attempt mv -fT -- "$TMP_CONF" "$CONF"; else attempt ln -T -- "$TMP_CONF" "$CONF"; fi; then
    [[ -n $BACKUP ]] || rm -f -- "$TMP_CONF"
    TMP_CONF=''
    return 0
  fi
  rm -f -- "$TMP_CONF"
  TMP_CONF=''
  return 1
}

# drop_backup: removes the backup link while it is still the file at $CONF (nothing was replaced).
drop_backup() {
  if [[ -n $BACKUP && $BACKUP -ef $CONF ]] && rm -f -- "$BACKUP"; then BACKUP=''; fi
}

read_choice Mode check "$PATTERN_Mode"
MODE=$REPLY
read_list PruneFsTypes fuse.s3fs "$ITEM_PruneFsTypes"
FS_LIST=(${LIST[@]+"${LIST[@]}"})
read_list PrunePaths '' "$ITEM_PrunePaths"
PATH_LIST=(${LIST[@]+"${LIST[@]}"})

# One run at a time (a second one would back up a half-written state), locked where only root writes.
state_dir || finish refused 4 false "cannot use the state directory: $TRUST_ERROR"
take_lock patch-updatedb-conf || case $? in
  1) finish busy 3 false "another crawlguard patch run holds the lock" ;;
  *) finish failed 1 false "cannot take the lock: $LOCK_ERROR" ;;
esac

# What the file is, found without opening it; locate_detect runs updatedb only on a regular file.
file_type "$CONF"
CONF_TYPE=$REPLY
[[ $CONF_TYPE == absent ]] || CONF_EXISTED=true
locate_detect "$CONF"
case $LOCATE_IMPL in
  none) finish notInstalled 0 true "no updatedb is installed: nothing crawls the mounts, nothing to patch" ;;
  findutils) finish refused 4 false "this updatedb is GNU findutils', which does not read $CONF" ;;
esac
case $CONF_TYPE in
  regular | absent) ;;
  symlink) finish refused 4 false "$CONF is a symbolic link: edit its target by hand" ;;
  *) finish refused 4 false "$CONF is a $CONF_TYPE, not a regular file (updatedb hangs or fails on it): fix it by hand" ;;
esac

WORK=$(mktemp -d -- "$STATE_DIR/patch.XXXXXX")
FINAL_NL=1
if [[ $CONF_TYPE == regular ]]; then
  [[ -r $CONF ]] || finish failed 1 false "$CONF is not readable"
  size=$(stat -c %s -- "$CONF")
  too_big="$CONF is over $CONF_MAX_BYTES bytes, the most this script edits (a real one is about 1 KB): check it by hand"
  ((size <= CONF_MAX_BYTES)) || finish refused 4 false "$too_big"
  # One read, bounded in bytes and time (it may have been swapped for a FIFO since), into our own
  # directory: everything below works on that copy.
  timeout 10 head -c "$((CONF_MAX_BYTES + 1))" -- "$CONF" >"$WORK/before" 2>/dev/null ||
    finish failed 1 false "reading $CONF failed or took more than 10 s"
  (($(stat -c %s -- "$WORK/before") <= CONF_MAX_BYTES)) || finish refused 4 false "$too_big"
  # `read -d ''` succeeds only when it finds a NUL byte.
  if IFS= read -r -d '' _ <"$WORK/before"; then finish refused 4 false "$CONF contains NUL bytes"; fi
  # Keep the file's own choice of ending with or without a newline ($() drops a final newline).
  if [[ -n $(tail -c 1 -- "$WORK/before") ]]; then FINAL_NL=0; fi
else
  printf '# updatedb configuration, created by crawlguard (no file existed; updatedb used built-in defaults)\n' >"$WORK/before"
fi

UC_ADD_FS="${FS_LIST[*]:-}" UC_ADD_PATHS="${PATH_LIST[*]:-}" UC_FINAL_NL=$FINAL_NL UC_REPORT="$WORK/report" \
  updatedb_conf_awk patch "$WORK/before" >"$WORK/after"
while IFS=$'\t' read -r kind a b c d; do
  case $kind in
    error) finish refused 4 false "$a" ;;
    missingfs) [[ -z $a ]] || read -r -a MISSING_FS <<<"$a" ;;
    missingpaths) [[ -z $a ]] || read -r -a MISSING_PATHS <<<"$a" ;;
    change)
      read -r -a added <<<"$d"
      json_str_array 40 "${added[@]}"
      CHANGES+="${CHANGES:+,}{\"variable\":\"$a\",\"action\":\"$b\",\"line\":$c,\"added\":$REPLY}"
      ;;
  esac
done <"$WORK/report"

if [[ $CONF_EXISTED == true ]]; then
  if validate_config parse; then VALIDATED=true; else
    VALIDATED=false
    finish refused 4 false "updatedb already rejects $CONF as it is; fix it by hand first"
  fi
fi

if ((${#MISSING_FS[@]} + ${#MISSING_PATHS[@]} == 0)); then
  CHANGES=''
  finish alreadyCompliant 0 true ''
fi

# Refused up front rather than failing half-way: in check mode too, since apply would be refused.
write_problem
[[ -z $REPLY ]] || finish refused 4 false "cannot change $CONF: $REPLY"
[[ $MODE == apply ]] || finish nonCompliant 0 false "would add to $CONF: ${MISSING_FS[*]:-} ${MISSING_PATHS[*]:-}"

# A failed run leaves /etc as it found it. The backup is a hard link to the file as found (no data
# written, nothing to fail half-way); the new file is renamed over the old one, which lives on as the
# backup; putting it back is one rename. Whatever fails, what this run created is removed.
if [[ $CONF_EXISTED == true ]]; then
  base="$CONF.crawlguard-$(date -u +%Y%m%dT%H%M%SZ)"
  BACKUP=$base n=1
  while [[ -e $BACKUP || -L $BACKUP ]]; do BACKUP="$base.$n" n=$((n + 1)); done
  if ! out=$(ln -T -- "$CONF" "$BACKUP" 2>&1); then
    BACKUP=''
    finish failed 1 false "could not keep a backup of $CONF, nothing changed: $out"
  fi
  # The file kept must be the one read and edited (another root process may have replaced it since).
  if ! timeout 10 cmp -s -- "$WORK/before" "$BACKUP"; then
    drop_backup
    finish failed 1 false "$CONF changed while it was being edited, nothing changed: run again"
  fi
fi

if ! install_conf "$WORK/after"; then
  drop_backup
  finish failed 1 false "writing $CONF failed, nothing changed: $INSTALL_ERROR"
fi
CHANGED=true

if validate_config run; then
  VALIDATED=true
  finish patched 0 true ''
fi
VALIDATED=false
if [[ -n $BACKUP ]]; then
  if out=$(mv -fT -- "$BACKUP" "$CONF" 2>&1); then RESTORED=true BACKUP=''; fi
elif rm -f -- "$CONF"; then
  RESTORED=true
fi
if [[ $RESTORED == true ]]; then
  CHANGED=false
  finish failed 1 false "updatedb rejected the edited file; the previous state was put back"
fi
finish failed 1 false "updatedb rejected the edited file and putting the previous one back failed (${out:-rm failed}): it is at ${BACKUP:-none (no file existed: remove $CONF)}"
