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
