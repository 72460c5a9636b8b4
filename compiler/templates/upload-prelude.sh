set -eu
# shellcheck disable=SC2034 # read by the scripts that take paths from the caller
called_from=$PWD
CDPATH='' cd -P -- "$(dirname -- "$0")"
for tool in curl jq; do
  command -v "$tool" >/dev/null 2>&1 || { echo "upload.sh needs $tool" >&2; exit 1; }
done
tab=$(printf '\t')
cr=$(printf '\r')
newline='
'
private=$(umask 077 && mktemp -d "${TMPDIR:-/tmp}/bsic-upload.XXXXXX")
trap 'rm -rf "$private"' EXIT
trap 'exit 1' HUP INT TERM

http() {
  # http CURL-ARGUMENTS...: curl, ignoring ~/.curlrc, with $CURL_OPTS
  # shellcheck disable=SC2086
  curl -q ${CURL_OPTS:-} "$@"
}

secret_config() {
  # secret_config FILE OPTION VALUE...: curl options holding secrets, in $private/FILE
  file=$private/$1; shift
  : > "$file"
  while [ $# -ge 2 ]; do
    case $2 in
      *"$newline"* | *"$cr"*)
        echo "the value for curl's $1 holds a line break: refused" >&2
        exit 1 ;;
    esac
    value=$(printf '%s' "$2" | LC_ALL=C sed 's/[\\"]/\\&/g') || exit 1
    printf '%s = "%s"\n' "$1" "$value" >> "$file"
    shift 2
  done
}
