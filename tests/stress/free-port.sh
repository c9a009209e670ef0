# shellcheck shell=bash
# Sourced by test scripts that start the service: free_port prints a loopback port nothing listens on
# (other test services may be running on this machine).
free_port() {
  local port
  for _ in $(seq 1 200); do
    port=$((20000 + RANDOM % 20000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "$port"; return; fi
  done
  echo "no free loopback port found" >&2; exit 1
}
