"""The ``planstream`` command line: an edge that only wires the SDK together.

The face exports :func:`main`, the click group (``planstream = planstream.cli.main:main``).
It is imported here at once, not on first use: a lazily read ``main`` would be
shadowed by the submodule of the same name. :mod:`planstream.cli.main` loads click
only; each command's module is imported when the command runs.

* :mod:`~planstream.cli.main` - the click group, with every command's short help;
* :mod:`~planstream.cli.commands` - one module per command: its options, then the work;
* :mod:`~planstream.cli.demo` - ``demo``: server, simulated plan, live watch;
* :mod:`~planstream.cli.watch` - ``watch``: :class:`PlanWatcher` and exit statuses;
* :mod:`~planstream.cli.tracking` - what a watcher saw (pure);
* :mod:`~planstream.cli.view` - rendering trackers and stats (pure);
* :mod:`~planstream.cli.output` - live view, plain lines or JSON lines;
* :mod:`~planstream.cli.serve` - ``serve``: the reference server, one log line per connection;
* :mod:`~planstream.cli.publish`, :mod:`~planstream.cli.plans` - the HTTP commands,
  over :mod:`~planstream.cli.http_api`;
* :mod:`~planstream.cli.endpoints` - stream and HTTP URLs from one ``--url``;
* :mod:`~planstream.cli.failures` - exit statuses and one-line errors;
* :mod:`~planstream.cli.terminal` - :func:`printable`, the one escaping of
  server-supplied text for the terminal.
"""

from planstream.cli.main import main

__all__ = ["main"]
