#!/usr/bin/env bash
# Install what the build (and, with --tests, the test suite) needs: Debian packages
# and npm modules. Idempotent: installs only what is missing.
#   tools/setup.sh           compilers, CMake, Doxygen, Sphinx and friends
#   tools/setup.sh --tests   also Chromium, Java (HTML validator), npm modules
set -euo pipefail
cd "$(dirname "$0")/.."

build_packages=(
  cmake ninja-build g++ clang libomp-14-dev git gettext
  doxygen python3-sphinx python3-breathe furo python3-sphinx-copybutton
  python3-jieba python3-matplotlib python3-babel graphviz libjs-normalize.css
  fonts-wqy-microhei strace
  catch2 libboost-dev libtbb-dev libopenmpi-dev openmpi-bin
  libssl-dev  # OpenSSL's libcrypto: HMAC and RAND_bytes for Listener/Client authkeys
)
test_packages=(chromium default-jre-headless)
# No daemon on /dev/log (a container): the logging page's read-back starts Debian's
# rsyslogd for its one run, in namespaces of its own (examples/09_practice/private_syslog.sh).
[ -S /dev/log ] || build_packages+=(rsyslog)

case "${1:-}" in
  "") packages=("${build_packages[@]}") ;;
  --tests) packages=("${build_packages[@]}" "${test_packages[@]}") ;;
  *) echo "usage: tools/setup.sh [--tests]" >&2; exit 2 ;;
esac
command -v npm >/dev/null || packages+=(nodejs npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q "${missing[@]}"
fi

if [ "${1:-}" = "--tests" ]; then
  # Browser-test modules; never a browser download: we drive Debian's /usr/bin/chromium.
  if [ ! -d tests/browser/node_modules ] ||
     [ tests/browser/package-lock.json -nt tests/browser/node_modules ]; then
    echo "setup: npm ci (tests/browser)"
    (cd tests/browser && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund)
    touch tests/browser/node_modules
  fi
fi
echo "setup: all build${1:+ and test} dependencies are present"
