# Checks shared by the end-to-end test scripts (source it; it defines functions only).

# expect NAME PATTERN TEXT: TEXT must contain PATTERN (a fixed string).
expect() {
  if ! grep -qF -- "$2" <<<"$3"; then
    echo "FAIL $1: expected '$2' in:"; echo "$3"; exit 1
  fi
  echo "ok   $1"
}

# status EXPECTED COMMAND...: runs COMMAND, requires its exit status, prints its stdout+stderr.
status() {
  local expected=$1; shift
  local out code=0
  out=$("$@" 2>&1) || code=$?
  if [ "$code" -ne "$expected" ]; then
    echo "FAIL: '$*' exited $code, expected $expected:"; echo "$out"; exit 1
  fi
  printf '%s' "$out"
}
