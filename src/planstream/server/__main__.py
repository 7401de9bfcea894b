"""``python -m planstream.server``: the reference server from ``PLANSTREAM_SERVER_*``."""

from __future__ import annotations

import asyncio
import logging

from planstream.server.runner import serve
from planstream.server.settings import ServerSettings

__all__: list[str] = []  # an entry point: nothing here is for importing


def main() -> None:
    """Serve until SIGTERM/SIGINT."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    asyncio.run(serve(ServerSettings()))


if __name__ == "__main__":
    main()
