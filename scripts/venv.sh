# Sourced by the scripts that set up a venv: `venv_install DIR PIP-ARGS...`
# creates DIR if needed and installs PIP-ARGS into it.
#
# The installer is uv (from PyPI, installed into the venv itself), which
# resolves and links a fresh venv in seconds where pip takes over a minute;
# where uv cannot be installed, pip does the same job, only slower. Like pip,
# uv is asked to compile the installed modules to bytecode: an old release
# (blinker 1.4 in the floors run) whose source has invalid escape sequences
# would otherwise warn when first imported, which the suite's warning filters
# turn into errors.

venv_install() {
    local dir="$1"
    shift
    if [ ! -x "$dir/bin/python" ]; then
        python3 -m venv "$dir"
    fi
    if [ ! -x "$dir/bin/uv" ]; then
        "$dir/bin/python" -m pip install --quiet --disable-pip-version-check uv ||
            echo "uv could not be installed: installing with pip" >&2
    fi
    if [ -x "$dir/bin/uv" ]; then
        "$dir/bin/uv" pip install --quiet --compile-bytecode --python "$dir/bin/python" "$@"
    else
        "$dir/bin/python" -m pip install --quiet --disable-pip-version-check "$@"
    fi
}
