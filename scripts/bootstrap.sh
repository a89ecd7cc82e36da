# Sourced by ./run and ./test: makes .venv and installs the pinned dependencies.
# Usage: bootstrap [runtime|dev]. runtime installs requirements/runtime.txt (the
# product and the sandbox ./run starts), dev requirements/dev.txt (also the
# benchmarks' extra and the test tools); every package is pinned with its hashes
# (pip --require-hashes), then LedgerBridge itself goes in editable without
# dependencies. Re-installs only when pyproject.toml or the requirements file
# changed since the last install (a stamp file in .venv). scripts/lock.sh writes
# the requirements files.
set -euo pipefail

bootstrap() {
    local extra="${1:-runtime}"
    local root
    root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
    local py="${PYTHON:-python3}"
    if ! "$py" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
        echo "LedgerBridge needs Python 3.11 or newer (found: $("$py" --version 2>&1))." >&2
        exit 1
    fi
    system_packages
    if [ ! -x "$root/.venv/bin/python" ]; then
        echo "Creating $root/.venv"
        "$py" -m venv "$root/.venv"
    fi
    local requirements="$root/requirements/$extra.txt"
    if [ ! -f "$requirements" ]; then
        echo "bootstrap: no $requirements (use runtime or dev)" >&2
        exit 1
    fi
    local stamp="$root/.venv/.installed-$extra"
    local want
    want="$(cat "$root/pyproject.toml" "$requirements" | sha256sum | cut -d' ' -f1)"
    if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
        echo "Installing dependencies ($extra) into .venv"
        # The requirements pin setuptools and wheel (and pip in dev) too: they go
        # in first, so what is built here (xero-python has no wheel, and the
        # project itself) is built with them, not with whatever build isolation
        # would fetch.
        local tools="$root/.venv/.build-tools.txt"
        awk '/^[^ #]/ { keep = /^(pip|setuptools|wheel)==/ } keep' "$requirements" > "$tools"
        "$root/.venv/bin/python" -m pip install --quiet --disable-pip-version-check \
            --require-hashes --no-deps -r "$tools"
        "$root/.venv/bin/python" -m pip install --quiet --disable-pip-version-check \
            --require-hashes --no-build-isolation -r "$requirements"
        "$root/.venv/bin/python" -m pip install --quiet --disable-pip-version-check \
            --no-deps --no-build-isolation -e "$root"
        echo "$want" > "$stamp"
    fi
}

# WeasyPrint needs Pango; install it from Debian when missing and we are root.
system_packages() {
    # grep reads all of ldconfig's output: with -q it could stop early, and under
    # pipefail ldconfig's broken pipe would read as "Pango missing".
    if ! ldconfig -p 2>/dev/null | grep 'libpango-1.0.so.0' >/dev/null; then
        apt_install libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b fonts-dejavu-core
    fi
}

apt_install() {
    if [ "$(id -u)" != "0" ]; then
        echo "Missing system packages: $*. Install them with: sudo apt-get install -y $*" >&2
        exit 1
    fi
    echo "Installing system packages: $*"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >/dev/null \
        || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >/dev/null; }
}
