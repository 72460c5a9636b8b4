api() {
  # api METHOD PATH [curl options...]: the answer on stdout; any HTTP error stops the script
  method=$1; path=$2; shift 2
  : > "$private/answer"
  code=$(http -sS -K "$private/api" -X "$method" -o "$private/answer" -w '%{http_code}' \
    "$@" "$KMFDDM_URL$path") || {
    echo "$method $KMFDDM_URL$path: no answer from KMFDDM (curl's error above)" >&2
    exit 1
  }
  case $code in
    2??|304) cat "$private/answer" ;;
    401)
      echo "$method $KMFDDM_URL$path: HTTP 401 Unauthorized: KMFDDM refused the API key (check KMFDDM_API_KEY and KMFDDM_USER)" >&2
      exit 1 ;;
    *)
      said=$(jq -r '.error? // .message? // empty' "$private/answer" 2>/dev/null) ||
        said=''
      [ -n "$said" ] || said=$(head -c 300 "$private/answer" | tr -d '\r')
      echo "$method $KMFDDM_URL$path: HTTP $code: ${said:-(no message)}" >&2
      exit 1 ;;
  esac
}
