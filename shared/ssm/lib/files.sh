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
