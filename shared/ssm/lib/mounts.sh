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
