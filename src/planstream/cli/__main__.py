"""``python -m planstream.cli``: the ``planstream`` command."""

from __future__ import annotations

from planstream.cli.main import main

__all__: list[str] = []  # an entry point: nothing here is for importing

if __name__ == "__main__":
    main(prog_name="planstream")
