"""The ``planstream`` command: ``demo``, ``serve``, ``watch``, ``publish``, ``plans``, ``token``.

Starting is cheap: this module loads click and nothing of the SDK but its
version. Each command lives in its own module under :mod:`planstream.cli.commands`
and is imported only when it runs (or shows its own ``--help``), the lazy-group
pattern of click's documentation; ``planstream --help`` lists every command with
the short help kept here. Every failure ends as one ``planstream: error: ...``
line on stderr (exit 2), with the traceback only under ``--debug``.
"""

from __future__ import annotations

import importlib
from typing import Any, NamedTuple

import click

from planstream import __version__

__all__ = ["COMMANDS", "HELP_CONTEXT", "LazyCommand", "LazyGroup", "main"]

#: How every command's ``--help`` reads: ``-h`` too, and click's own
#: ``[env var: ...; default: ...]`` after each option (a command's context
#: inherits both from the group's; ``python -m planstream.server`` passes them
#: to ``serve`` itself).
HELP_CONTEXT: dict[str, Any] = {"help_option_names": ["-h", "--help"], "show_default": True}


class LazyCommand(NamedTuple):
    """Where a command is defined and the one line ``planstream --help`` shows for it."""

    module: str
    short_help: str


#: Every command, in the order ``--help`` lists them.
COMMANDS: dict[str, LazyCommand] = {
    "demo": LazyCommand(
        "planstream.cli.commands.demo", "Watch a simulated plan stream live (server included)."
    ),
    "plans": LazyCommand("planstream.cli.commands.plans", "List the server's plans."),
    "publish": LazyCommand(
        "planstream.cli.commands.publish", "Publish events to a plan over HTTP."
    ),
    "serve": LazyCommand("planstream.cli.commands.serve", "Run the reference server."),
    "token": LazyCommand(
        "planstream.cli.commands.token", "Mint a development JWT, hash an API key."
    ),
    "watch": LazyCommand(
        "planstream.cli.commands.watch", "Watch plans live; exit 0 succeeded, 1 failed, 2 error."
    ),
}


class LazyGroup(click.Group):
    """A group whose commands are all imported by name, on first use."""

    def __init__(
        self, name: str | None = None, *, lazy_commands: dict[str, LazyCommand], **attrs: Any
    ) -> None:
        super().__init__(name, **attrs)
        self.lazy_commands = lazy_commands

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(self.lazy_commands)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.commands or cmd_name not in self.lazy_commands:
            return super().get_command(ctx, cmd_name)
        lazy = self.lazy_commands[cmd_name]
        command = getattr(importlib.import_module(lazy.module), cmd_name)
        assert isinstance(command, click.Command), lazy
        command.short_help = lazy.short_help  # one source for the short help
        self.add_command(command, cmd_name)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """List the commands from their static short help, importing none of them."""
        rows = [(name, self.lazy_commands[name].short_help) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(
    cls=LazyGroup,
    lazy_commands=COMMANDS,
    context_settings=HELP_CONTEXT,
)
@click.version_option(__version__, prog_name="planstream")
def main() -> None:
    """planstream: stream plan-execution updates, exactly once and in order.

    Start with `planstream demo`.
    """
