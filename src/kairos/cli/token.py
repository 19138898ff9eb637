"""``kairos token create USERNAME [--name NAME] [--days N] [--read-only]`` (prints the token on its last
line) / ``revoke USERNAME ID``."""

from __future__ import annotations

import argparse

from kairos.cli.main import UsageError

HELP = "Create or revoke API tokens."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True)
    create = sub.add_parser("create", help="create a token for a user")
    create.add_argument("username")
    create.add_argument("--name", default="cli", help="a label for the token (1–100 characters)")
    create.add_argument(
        "--days",
        type=int,
        default=None,
        help="expire after N days, 1–365 (default: KAIROS_API_TOKEN_DAYS, 90 unless set)",
    )
    create.add_argument(
        "--read-only", action="store_true", help="the token may only read (GET/HEAD); writes answer 403"
    )
    revoke = sub.add_parser("revoke", help="revoke a token by id")
    revoke.add_argument("username")
    revoke.add_argument("token_id", type=int)


def run(args: argparse.Namespace) -> int:
    from kairos.cli._django import setup

    setup()
    from django.contrib.auth import get_user_model

    from kairos.accounts import services
    from kairos.accounts.models import ApiToken

    user = get_user_model().objects.filter(username=args.username, is_active=True).first()
    if user is None:
        raise UsageError(f"username: no active user {args.username!r}")
    if args.action == "create":
        if args.days is not None and not services.TOKEN_DAYS_MIN <= args.days <= services.TOKEN_DAYS_MAX:
            raise UsageError(f"--days: {services.TOKEN_DAYS_MIN}–{services.TOKEN_DAYS_MAX} (got {args.days})")
        try:
            token, raw = services.create_token(user, args.name, days=args.days, read_only=args.read_only)
        except ValueError as exc:
            raise UsageError(f"--name: {exc}") from None
        scope = "read-only" if token.read_only else "read-write"
        print(
            f"Created {scope} token {token.pk} ({token.name}) for {user.get_username()}, "
            f"expires {token.expires_at:%Y-%m-%d %H:%M} UTC. It is shown once:"
        )
        print(raw)
        return 0
    try:
        services.revoke_token(user, args.token_id)
    except ApiToken.DoesNotExist:
        raise UsageError(f"token_id: {args.token_id} is not a token of {args.username}") from None
    print(f"Revoked token {args.token_id}")
    return 0
