"""The command lines (python -m core run | presets | sweep) and what every command line of the project shares.

common: the parser, one-line errors and exit statuses every command line shares (docs/cli.md); progress:
progress bars that never crash in a pipe, SIGTERM handled like Ctrl-C; sweep: ``python -m core sweep``.
Nothing is imported here, so core.fileio can use the signal helpers without loading the command lines.
"""
