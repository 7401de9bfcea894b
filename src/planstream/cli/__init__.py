"""The ``planstream`` command line: an edge that only wires the SDK together.

* :mod:`~planstream.cli.main` - the click group and its commands;
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

from planstream.cli.demo import (
    DEMO_PLAN_ID,
    DEMO_STEPS,
    DemoStep,
    DemoSummary,
    ScriptEntry,
    demo_script,
    run_demo,
)
from planstream.cli.endpoints import STREAM_PATH, client_settings, stream_url
from planstream.cli.failures import (
    EXIT_BROKEN_PIPE,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_PLAN_FAILED,
    EXIT_USAGE,
    CommandError,
    run_command,
)
from planstream.cli.http_api import ServerApi
from planstream.cli.main import main
from planstream.cli.output import JsonOutput, LiveOutput, PlainOutput, WatchOutput, choose_output
from planstream.cli.plans import plans_table, run_plans
from planstream.cli.publish import parse_event_line, parse_json_object, run_publish
from planstream.cli.serve import ConnectionLogMiddleware, run_serve, server_settings
from planstream.cli.terminal import (
    EscapingFormatter,
    escape_last_resort,
    log_to_stderr,
    print_traceback,
    printable,
)
from planstream.cli.tracking import ConnectionTracker, LogLine, PlanTracker
from planstream.cli.view import (
    describe_item,
    describe_stats,
    progress_of,
    render_connection,
    render_logs,
    render_plan,
    render_steps,
    render_view,
)
from planstream.cli.watch import PlanWatcher, exit_status, run_watch

__all__ = [
    "DEMO_PLAN_ID",
    "DEMO_STEPS",
    "EXIT_BROKEN_PIPE",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_PLAN_FAILED",
    "EXIT_USAGE",
    "STREAM_PATH",
    "CommandError",
    "ConnectionLogMiddleware",
    "ConnectionTracker",
    "DemoStep",
    "DemoSummary",
    "EscapingFormatter",
    "JsonOutput",
    "LiveOutput",
    "LogLine",
    "PlainOutput",
    "PlanTracker",
    "PlanWatcher",
    "ScriptEntry",
    "ServerApi",
    "WatchOutput",
    "choose_output",
    "client_settings",
    "demo_script",
    "describe_item",
    "describe_stats",
    "escape_last_resort",
    "exit_status",
    "log_to_stderr",
    "main",
    "parse_event_line",
    "parse_json_object",
    "plans_table",
    "print_traceback",
    "printable",
    "progress_of",
    "render_connection",
    "render_logs",
    "render_plan",
    "render_steps",
    "render_view",
    "run_command",
    "run_demo",
    "run_plans",
    "run_publish",
    "run_serve",
    "run_watch",
    "server_settings",
    "stream_url",
]
