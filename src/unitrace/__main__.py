"""``python -m unitrace``: the same as the ``unitrace`` console script."""

from unitrace.cli.main import main

main()
