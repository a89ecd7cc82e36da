"""``python -m xero_sandbox``: run the sandbox server with uvicorn."""

from __future__ import annotations

import argparse
import sys

import uvicorn

from .app import create_app
from .ratelimit import UNLIMITED, Limits
from .seed import DEMO_REDIRECT_URIS, DemoSettings
from .state import SandboxConfig


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    demo = DemoSettings()
    parser = argparse.ArgumentParser(prog="python -m xero_sandbox", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--db", default=":memory:", help="SQLite file, or :memory: (default)")
    parser.add_argument(
        "--time-scale", type=float, default=1.0, help="sandbox seconds per real second"
    )
    parser.add_argument(
        "--public-url", default=None, help="base URL in links and webhook resourceUrls"
    )
    parser.add_argument("--client-id", default=demo.client_id)
    parser.add_argument("--client-secret", default=demo.client_secret)
    parser.add_argument(
        "--redirect-uri",
        action="append",
        default=None,
        help="allowed redirect URI for the demo app (repeatable)",
    )
    parser.add_argument("--webhook-url", default=demo.webhook_url)
    parser.add_argument("--webhook-key", default=demo.webhook_key)
    parser.add_argument(
        "--legacy-scopes", action="store_true", help="demo app may use accounting.transactions"
    )
    parser.add_argument("--user-email", default=demo.user_email)
    parser.add_argument("--user-password", default=demo.user_password)
    parser.add_argument(
        "--no-demo", action="store_true", help="start empty (no demo app, user or org)"
    )
    parser.add_argument("--no-webhooks", action="store_true", help="do not run the webhook worker")
    parser.add_argument(
        "--rate-limits",
        choices=["xero", "off"],
        default="xero",
        help="'off' raises the limits out of reach (still counted) for load benchmarks",
    )
    parser.add_argument("--log-level", default="warning")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    public_url = args.public_url or f"http://{args.host}:{args.port}"
    demo = DemoSettings(
        client_id=args.client_id,
        client_secret=args.client_secret,
        redirect_uris=tuple(args.redirect_uri or DEMO_REDIRECT_URIS),
        webhook_url=args.webhook_url or None,
        webhook_key=args.webhook_key,
        legacy_scopes=args.legacy_scopes,
        user_email=args.user_email,
        user_password=args.user_password,
    )
    config = SandboxConfig(
        db_path=args.db,
        time_scale=args.time_scale,
        public_url=public_url,
        seed_demo=not args.no_demo,
        demo=demo,
        webhooks_enabled=not args.no_webhooks,
        limits=Limits() if args.rate_limits == "xero" else UNLIMITED,
    )
    app = create_app(config)
    if not args.no_demo:
        print(
            f"Xero sandbox on {public_url}\n"
            f"  OAuth client id:     {demo.client_id}\n"
            f"  OAuth client secret: {demo.client_secret}\n"
            f"  Redirect URIs:       {', '.join(demo.redirect_uris)}\n"
            f"  Webhook URL / key:   {demo.webhook_url} / {demo.webhook_key}\n"
            f"  Xero user login:     {demo.user_email} / {demo.user_password}\n"
            f"  Demo organisation:   {demo.org_name} (tenant id {demo.tenant_id})\n"
            f"  Control API:         {public_url}/sandbox",
            flush=True,
        )
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level)


if __name__ == "__main__":
    main(sys.argv[1:])
