#!/usr/bin/env bash
# The browser tests drive Debian's Chromium. Install it when missing and we are root;
# otherwise say how, and let the browser tests fail with the same message.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
  echo "Installing Debian's chromium for the browser tests..."
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
else
  echo "WARNING: /usr/bin/chromium is missing; the browser tests will fail."
  echo "Install it as root with: apt-get install -y chromium"
fi
