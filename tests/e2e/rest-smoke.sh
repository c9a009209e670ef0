#!/usr/bin/env bash
# REST/JSON smoke test of a running ConvService with curl: every endpoint, one error of each
# kind, health and metrics. Usage: rest-smoke.sh [BASE_URL]  (default http://localhost:8080)
set -euo pipefail
base="${1:-http://localhost:8080}"
passed=0
failed=0

check() { # name, expected-status, expected-substring, curl args...
  local name="$1" status="$2" needle="$3"
  shift 3
  local body code
  body="$(mktemp)"
  code="$(curl -sS -o "$body" -w '%{http_code}' --max-time 20 "$@" || true)"
  if [[ "$code" == "$status" ]] && grep -Eq -- "$needle" "$body"; then
    passed=$((passed + 1))
    echo "ok   $name ($code)"
  else
    failed=$((failed + 1))
    echo "FAIL $name: status $code (want $status), body: $(head -c 400 "$body")"
  fi
  rm -f "$body"
}

post() { curl_args=(-X POST -H 'content-type: application/json' --data "$2" "$base$1"); }

post /v1/estimate-cost '{"inputShape":[3,12,12],"kernelSize":[5],"outputChannels":256}'
check "estimate-cost textbook standard" 200 '"multiplications": *"?1228800"?' "${curl_args[@]}"
check "estimate-cost textbook separable" 200 '"multiplications": *"?53952"?' "${curl_args[@]}"

# 1x1x3x3 ones with a 2x2 ones kernel: every output is 4, plus bias 0.5.
post /v1/convolve '{"input":{"shape":[1,1,3,3],"data":[1,1,1,1,1,1,1,1,1]},"weight":{"shape":[1,1,2,2],"data":[1,1,1,1]},"bias":{"shape":[1],"data":[0.5]}}'
check "convolve data" 200 '"data": *\[ *4.5, *4.5, *4.5, *4.5 *\]' "${curl_args[@]}"
check "convolve execution kind" 200 '"kind": *"standard"' "${curl_args[@]}"

# raw_data as base64: four float32 ones = AACAPwAAgD8AAIA/AACAPw==; a 1x1 kernel of 2.0 = AAAAQA==
post /v1/convolve '{"input":{"shape":[1,2,2],"rawData":"AACAPwAAgD8AAIA/AACAPw=="},"weight":{"shape":[1,1,1,1],"rawData":"AAAAQA=="}}'
check "convolve raw_data answers raw_data" 200 '"rawData": *"AAAAQAAAAEAAAABAAAAAQA=="' "${curl_args[@]}"

post /v1/separable-convolve '{"input":{"shape":[1,1,3,3],"data":[1,2,3,4,5,6,7,8,9]},"spatiallySeparable":{"column":[1,1],"row":[1,1]}}'
check "separable spatially" 200 '"data": *\[ *12, *16, *24, *28 *\]' "${curl_args[@]}"

post /v1/separable-convolve '{"input":{"shape":[1,1,2,2],"data":[1,2,3,4]},"depthwiseSeparable":{"depthwiseWeight":{"shape":[2,1,1,1],"data":[1,2]},"pointwiseWeight":{"shape":[1,2,1,1],"data":[1,1]}},"options":{"paddingMode":"PADDING_MODE_VALID"}}'
check "separable depthwise" 200 '"data": *\[ *3, *6, *9, *12 *\]' "${curl_args[@]}"
check "separable depthwise kind" 200 '"kind": *"depthwise_separable"' "${curl_args[@]}"

post /v1/convolve '{"input":{"shape":[1,3,4,4],"data":[1]},"weight":{"shape":[1,3,1,1],"data":[1,1,1]}}'
check "invalid element count is 400 naming the field" 400 'input' "${curl_args[@]}"

post /v1/convolve '{"input":{"shape":[1,1,2,2],"data":[1,2,3,4]},"weight":{"shape":[1,1,3,3],"data":[1,1,1,1,1,1,1,1,1]}}'
check "kernel larger than input is 400" 400 'weight.shape' "${curl_args[@]}"

post /v1/convolve '{"input": {'
check "malformed JSON is 400" 400 '' "${curl_args[@]}"

check "liveness" 200 '' "$base/healthz"
check "readiness" 200 '' "$base/readyz"
check "metrics has the latency histogram by kind" 200 'conv_compute_duration_seconds_bucket\{.*conv_kind="spatially_separable"' "$base/metrics"

echo "$passed passed, $failed failed"
[[ "$failed" == 0 ]]
