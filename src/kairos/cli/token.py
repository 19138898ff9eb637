"""``kairos token create USERNAME [--name NAME]`` (prints the token on its last line) / ``revoke ID``."""

from __future__ import annotations

import argparse

from kairos.cli.main import UsageError

HELP = "Create or revoke API tokens."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True)
    create = sub.add_parser("create", help="create a token for a user")
    create.add_argument("username")
    create.add_argument("--name", default="cli", help="a label for the token (1–100 characters)")
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
        try:
            token, raw = services.create_token(user, args.name)
        except ValueError as exc:
            raise UsageError(f"--name: {exc}") from None
        print(f"Created token {token.pk} ({token.name}) for {user.get_username()}. It is shown once:")
        print(raw)
        return 0
    try:
        services.revoke_token(user, args.token_id)
    except ApiToken.DoesNotExist:
        raise UsageError(f"token_id: {args.token_id} is not a token of {args.username}") from None
    print(f"Revoked token {args.token_id}")
    return 0
