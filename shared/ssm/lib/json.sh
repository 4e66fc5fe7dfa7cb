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
