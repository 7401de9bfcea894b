"""``python -m planstream.server``: ``planstream serve`` under another name.

The same options, ``PLANSTREAM_SERVER_*`` variables, ``--help``, log lines and
exit statuses as the CLI's command (docs/guide/cli.md): one argument handling.
"""

from __future__ import annotations

__all__: list[str] = []  # an entry point: nothing here is for importing


def main() -> None:
    """Run ``planstream serve`` with this process's arguments; exits with its status."""
    from planstream.cli.commands.serve import serve  # the CLI, only when run

    serve.main(prog_name="python -m planstream.server")


if __name__ == "__main__":
    main()
