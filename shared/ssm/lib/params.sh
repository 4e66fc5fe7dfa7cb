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
