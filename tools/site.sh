#!/usr/bin/env bash
# Build everything — every example, its captured output, the site in English and
# Chinese — and serve it on http://127.0.0.1:8000 (PORT=... to change).
#   tools/site.sh             build and serve
#   tools/site.sh --no-serve  build and print where the site is
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-}" in
  "") serve=1 ;;
  --no-serve) serve=0 ;;
  *) echo "usage: tools/site.sh [--no-serve]" >&2; exit 2 ;;
esac
tools/setup.sh
cmake --preset default
cmake --build --preset default
if [ "$serve" -eq 1 ]; then
  port="${PORT:-8000}"
  echo "Serving $(pwd)/build/site on http://127.0.0.1:${port}/ (Ctrl-C to stop)"
  exec /usr/bin/python3 -m http.server --bind 127.0.0.1 --directory build/site "$port"
fi
echo "Site built: $(pwd)/build/site/index.html"
