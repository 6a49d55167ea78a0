#!/bin/sh
# kinesim against its SimPy peer; every option is compare.py's (see --help there).
exec python3 "$(dirname "$0")/compare.py" "$@"
