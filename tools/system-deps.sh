#!/usr/bin/env bash
# Installs the Debian packages the tests need when they are missing.
# Runs as root on CI and on the team's machines; elsewhere it says what to install.
set -euo pipefail
need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
[ -x /usr/bin/chromedriver ] || need+=(chromium-driver)
[ -x /usr/bin/promtool ] || need+=(prometheus)
[ -x /usr/bin/redis-server ] || need+=(redis-server)
[ -x /usr/bin/redis-cli ] || need+=(redis-tools)
[ -x /usr/sbin/nats-server ] || need+=(nats-server)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "system-deps: missing Debian packages: ${need[*]}; install them with: sudo apt-get install -y ${need[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
echo "system-deps: installed ${need[*]}"
