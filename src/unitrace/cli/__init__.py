"""The ``unitrace`` command line: ``unitrace <noun> <verb>``, one module per noun.

Commands are thin: they parse options, call one service and render the result (a rich
table for people, ``--json`` for scripts). ``main.py`` builds the settings once and maps
:class:`~unitrace.errors.UnitraceError` to ``Error: …`` on stderr and exit code 1.
"""
