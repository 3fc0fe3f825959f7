#!/usr/bin/env bash
# Install the browser used by the browser tests (Playwright drives Debian's
# chromium at /usr/bin/chromium; Playwright's own browser download cannot work
# offline). Also installs a font so screenshots render text.
# Idempotent: does nothing when everything is already present.
set -euo pipefail

need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
# DejaVu fonts: headless chromium renders text with them in screenshots.
if ! dpkg-query -W -f='${Status}' fonts-dejavu-core 2>/dev/null | grep -q "ok installed"; then
    need+=(fonts-dejavu-core)
fi

if [ ${#need[@]} -eq 0 ]; then
    echo "install_browser: chromium and fonts already present ($(/usr/bin/chromium --version 2>/dev/null || echo '?'))"
    exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO="sudo"
    else
        echo "install_browser: need root (or sudo) to apt-get install: ${need[*]}" >&2
        exit 1
    fi
fi

echo "install_browser: installing ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q </dev/null
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}" </dev/null
/usr/bin/chromium --version
