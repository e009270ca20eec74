"""``python -m media.asr models ...``: see :mod:`media.asr.cli`."""

import sys

from media.asr.cli import main

if __name__ == "__main__":
    argv = sys.argv[1:]
    sys.exit(main(argv[1:] if argv[:1] == ["models"] else argv))
