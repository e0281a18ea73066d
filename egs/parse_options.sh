# Shared command-line parsing of the egs/*/run*.sh scripts; source it after setting the defaults:
#
#   stage=0; stop_stage=3; recipe=vc_builtin_quick; overrides=()
#   . "$(dirname "$0")/../parse_options.sh"
#
# --NAME VALUE sets the shell variable NAME (dashes read as underscores), which must already have a
# default, so a misspelt option is an error; when NAME is an array, "--set VALUE" is appended to it
# (--set itself appends to "overrides", the recipe overrides passed to cycleaudio).  Other words are
# collected in the array "positional".  -h/--help prints the script's header comment.
positional=()
while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) sed -n '2,/^set -euo pipefail/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    --*)
      name=${1#--}; name=${name//-/_}
      [ "$name" = set ] && name=overrides
      if ! declare -p "$name" >/dev/null 2>&1; then echo "unknown option $1 (see $0 --help)" >&2; exit 2; fi
      [ $# -ge 2 ] || { echo "option $1 needs a value" >&2; exit 2; }
      if [[ "$(declare -p "$name")" == "declare -a"* ]]; then
        eval "$name+=(--set \"\$2\")"
      else
        printf -v "$name" '%s' "$2"
      fi
      shift 2 ;;
    *) positional+=("$1"); shift ;;
  esac
done
