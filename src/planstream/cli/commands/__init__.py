"""The ``planstream`` commands, one module each, imported only when the command runs.

:mod:`planstream.cli.main` names them (with their short help) and loads one on
demand; :mod:`~planstream.cli.commands.options` holds the options several share.
Each module parses its options and hands over to the module doing the work
(``planstream.cli.demo``, ``.serve``, ``.watch``, ``.publish``, ``.plans``).
"""

__all__: list[str] = []  # commands are reached through planstream.cli.main
