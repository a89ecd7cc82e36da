# Sourced by ./run and ./test: makes .venv and installs the pinned dependencies.
# Usage: bootstrap [runtime|dev]. Re-installs only when pyproject.toml or
# constraints.txt changed since the last install (a stamp file in .venv).
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
    # runtime: the product and the sandbox ./run starts; dev: also benchmarks and test tools.
    local spec="$root[dev]"
    [ "$extra" = "dev" ] || spec="$root[sandbox]"
    local stamp="$root/.venv/.installed-$extra"
    local want
    want="$(cat "$root/pyproject.toml" "$root/constraints.txt" | sha256sum | cut -d' ' -f1)"
    if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
        echo "Installing dependencies ($extra) into .venv"
        "$root/.venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
        "$root/.venv/bin/python" -m pip install --quiet --disable-pip-version-check \
            -c "$root/constraints.txt" -e "$spec"
        echo "$want" > "$stamp"
    fi
}

# WeasyPrint needs Pango; install it from Debian when missing and we are root.
system_packages() {
    if ! ldconfig -p 2>/dev/null | grep -q 'libpango-1.0.so.0'; then
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
