"""``python -m explorer``: serve the explorer to this machine only, unless told otherwise.

Runs ``panel serve explorer/app.py`` with ``--address 127.0.0.1`` (Bokeh's default would listen on
every network interface), websocket origins matching that address and port, and the websocket
message size that the upload limit needs (an upload travels base64-encoded in one message), and
draws the app once before answering (``explorer/warm_up.py``). Any
other argument goes to ``panel serve`` as given, e.g. ``--basic-auth`` or ``--oauth-provider``;
README "Serving the explorer to others" says how to expose it deliberately.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from explorer.uploads import WEBSOCKET_MAX_MESSAGE_BYTES

APP = Path(__file__).resolve().parent / "app.py"
#: Run before the server answers: the first visitor meets a warm server (explorer/warm_up.py says why).
WARM_UP = APP.with_name("warm_up.py")


def panel_arguments(argv: list[str] | None = None) -> list[str]:
    """The ``panel serve`` command line for these arguments (without the executable)."""
    parser = argparse.ArgumentParser(prog="python -m explorer", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--address", default="127.0.0.1",
                        help="interface to listen on (default 127.0.0.1: this machine only; 0.0.0.0: every one)")
    parser.add_argument("--port", type=int, default=5006)
    parser.add_argument("--allow-websocket-origin", action="append", default=None, metavar="HOST[:PORT]",
                        help="origin a browser may connect from (repeatable); default: the address and "
                             "localhost at the port")
    args, rest = parser.parse_known_args(argv)
    origins = args.allow_websocket_origin or [f"{args.address}:{args.port}", f"localhost:{args.port}"]
    return ["serve", str(APP), "--setup", str(WARM_UP), "--address", args.address, "--port", str(args.port),
            *(f"--allow-websocket-origin={origin}" for origin in origins),
            f"--websocket-max-message-size={WEBSOCKET_MAX_MESSAGE_BYTES}", *rest]


def main(argv: list[str] | None = None) -> None:
    arguments = panel_arguments(argv)
    # exec, not a child process: Ctrl-C and the exit code are panel's own
    os.execv(sys.executable, [sys.executable, "-m", "panel", *arguments])


if __name__ == "__main__":
    main()
