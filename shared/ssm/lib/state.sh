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
