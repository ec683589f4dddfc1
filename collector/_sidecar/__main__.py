"""``python -m collector._sidecar --port N``: run the ingest sidecar (pipeline into AUDIT_STORE_DSN).

Stand-in for ``autogen-audit serve --ingest-only`` until that subcommand mounts these routes.
"""

from __future__ import annotations

import argparse


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m collector._sidecar")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8700)
    parser.add_argument("--dsn", default=None, help="store DSN (default AUDIT_STORE_DSN)")
    args = parser.parse_args()

    import uvicorn

    from .._factory import build_pipeline
    from .._settings import AuditSettings
    from ._app import background_priority, create_sidecar_app

    settings = AuditSettings(**({"store_dsn": args.dsn} if args.dsn else {}))
    app = create_sidecar_app(background_priority(build_pipeline(settings)), settings)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", access_log=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
