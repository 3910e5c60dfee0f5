"""The ``dalserver user``, ``token``, ``group`` and ``access`` commands: accounts, their tokens,
groups and what each group is granted, and why a user does or does not see a dataset.

    dalserver user add NAME [--group G] [--no-password]   (the password from standard input, or asked)
    dalserver user passwd NAME | list | disable NAME | enable NAME
    dalserver user token NAME [--expires 90d] [--label L] (printed once; only its hash is kept)
    dalserver token list [--user NAME] | revoke KEY
    dalserver group grant G --collection C [--proposal P] | revoke ... | join G USER... | leave G USER... | list
    dalserver access explain USER DID

Changes reach a running server within DALSERVER_AUTH_CACHE_SECONDS (5 s): no restart.
"""

from __future__ import annotations

import argparse
import getpass
import re
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import psycopg

from dalserver.access.credentials import hash_password, new_token, parse_token
from dalserver.access.identity import ANONYMOUS, Identity
from dalserver.access.store import MEMBERSHIP, NEW_CREDENTIAL, identity_from_membership
from dalserver.access.visibility import row_filter
from dalserver.db.bootstrap import bootstrap
from dalserver.db.location import database_url
from dalserver.settings import Settings

_UNITS = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400, "y": 365 * 86400}
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}$")


class CommandError(Exception):
    """What the operator asked cannot be done; the message says why."""


def lifetime(text: str) -> timedelta | None:
    """A token's lifetime from ``90d``, ``12h``, ``2w``, ``1y`` or ``never`` (None)."""
    if text.strip().lower() == "never":
        return None
    match = re.fullmatch(r"\s*(\d+)\s*([mhdwy])\s*", text.lower())
    if not match or int(match.group(1)) <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a lifetime such as 90d, 12h, 2w, 1y or never")
    return timedelta(seconds=int(match.group(1)) * _UNITS[match.group(2)])


def _name(kind: str) -> Callable[[str], str]:
    def check(text: str) -> str:
        if not _NAME.match(text):
            raise argparse.ArgumentTypeError(
                f"{text!r} is not a {kind} name: letters, digits and . _ @ + - (starting with a letter or digit)"
            )
        return text

    return check


def _read_password(prompt: str) -> str:
    """The password from standard input when it is not a terminal (a script, a pipe), else asked twice."""
    if not sys.stdin.isatty():
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass(f"{prompt}: ")
        if getpass.getpass("again: ") != password:
            raise CommandError("the two passwords differ; nothing was changed")
    if len(password) < 8:
        raise CommandError("a password needs at least 8 characters; nothing was changed")
    return password


def _exists(conn: psycopg.Connection, user: str) -> bool:
    return conn.execute("SELECT 1 FROM auth.users WHERE user_name = %s", (user,)).fetchone() is not None


def _require(conn: psycopg.Connection, user: str) -> None:
    if not _exists(conn, user):
        raise CommandError(f"there is no user {user!r} (dalserver user list shows them)")


# --- users ------------------------------------------------------------------------------------------
def user_add(conn: psycopg.Connection, args: argparse.Namespace) -> str:
    if _exists(conn, args.name):
        raise CommandError(f"user {args.name!r} exists already (dalserver user passwd changes the password)")
    password = None if args.no_password else hash_password(_read_password(f"password for {args.name}"))
    conn.execute(
        "INSERT INTO auth.users (user_name, password_hash, disabled, created) VALUES (%s, %s, false, now())",
        (args.name, password),
    )
    for group in args.group:
        _join(conn, group, args.name)
    groups = f" in {', '.join(args.group)}" if args.group else ""
    return f"added user {args.name}{groups}"


def user_passwd(conn: psycopg.Connection, args: argparse.Namespace) -> str:
    _require(conn, args.name)
    password = hash_password(_read_password(f"new password for {args.name}"))
    conn.execute("UPDATE auth.users SET password_hash = %s WHERE user_name = %s", (password, args.name))
    return f"changed the password of {args.name}"


def user_list(conn: psycopg.Connection, args: argparse.Namespace) -> str:
    rows = conn.execute(
        "SELECT u.user_name, u.disabled, u.password_hash IS NOT NULL, "
        "coalesce((SELECT string_agg(group_name, ',' ORDER BY group_name) FROM auth.members AS m "
        "WHERE m.user_name = u.user_name), ''), "
        "(SELECT count(*) FROM auth.credentials AS c WHERE c.user_name = u.user_name AND c.kind = 'token' "
        "AND NOT c.revoked AND coalesce(c.expires > now(), true)) "
        "FROM auth.users AS u ORDER BY u.user_name"
    ).fetchall()
    lines = ["user\tstate\tpassword\tgroups\tactive tokens"]
    for name, disabled, has_password, groups, tokens in rows:
        lines.append(
            f"{name}\t{'disabled' if disabled else 'active'}\t{'yes' if has_password else 'no'}\t{groups or '-'}\t{tokens}"
        )
    return "\n".join(lines)


def user_disable(conn: psycopg.Connection, args: argparse.Namespace) -> str:
    _require(conn, args.name)
    disabled = args.user_action == "disable"
    conn.execute("UPDATE auth.users SET disabled = %s WHERE user_name = %s", (disabled, args.name))
    if disabled:
        return f"disabled {args.name}: their password, tokens and sessions are refused (their queued jobs fail)"
    return f"enabled {args.name}"


def user_token(conn: psycopg.Connection, args: argparse.Namespace) -> str:
    _require(conn, args.name)
    token = new_token()
    expires = datetime.now(UTC) + args.expires if args.expires is not None else None
    conn.execute(NEW_CREDENTIAL, (token.key, args.name, "token", token.secret_sha256, args.label, expires))
    until = f"until {expires:%Y-%m-%d %H:%M} UTC" if expires else "without expiry"
    print(
        f"a token for {args.name} (key {token.key}), valid {until}; it is shown only this once: keep it secret",
        file=sys.stderr,
    )
    return token.text


# --- tokens -----------------------------------------------------------------------------------------
def token_list(conn: psycopg.Connection, args: argparse.Namespace) -> str:
    where, values = "c.kind = 'token'", []
    if args.user:
        where += " AND c.user_name = %s"
        values.append(args.user)
    rows = conn.execute(
        "SELECT credential_key, user_name, coalesce(label, ''), created, expires, last_used, revoked, "
        f"coalesce(expires <= now(), false) FROM auth.credentials AS c WHERE {where} ORDER BY user_name, created",
        values,
    ).fetchall()

    def when(moment: datetime | None, never: str) -> str:
        return f"{moment:%Y-%m-%d %H:%M}" if moment else never

    lines = ["key\tuser\tlabel\tcreated\texpires\tlast used\tstate"]
    for key, user, label, created, expires, used, revoked, expired in rows:
        state = "revoked" if revoked else "expired" if expired else "active"
        lines.append(
            f"{key}\t{user}\t{label or '-'}\t{when(created, '')}\t{when(expires, 'never')}\t{when(used, 'never')}\t{state}"
        )
    return "\n".join(lines)


def token_revoke(conn: psycopg.Connection, args: argparse.Namespace) -> str:
    parsed = parse_token(args.key)
    key = parsed.key if parsed else args.key
    done = conn.execute(
        "UPDATE auth.credentials SET revoked = true WHERE credential_key = %s RETURNING user_name", (key,)
    ).fetchone()
    if done is None:
        raise CommandError(f"no token has the key {key!r} (dalserver token list shows them)")
    return f"revoked token {key} of {done[0]}"


# --- groups -----------------------------------------------------------------------------------------
def _join(conn: psycopg.Connection, group: str, user: str) -> None:
    conn.execute(
        "INSERT INTO auth.members (user_name, group_name) VALUES (%s, %s) ON CONFLICT DO NOTHING", (user, group)
    )


def group_grant(conn: psycopg.Connection, args: argparse.Namespace) -> str:
    proposal = args.proposal or ""
    what = f"{args.collection} proposal {args.proposal}" if args.proposal else f"all of {args.collection}"
    if args.group_action == "grant":
        known = conn.execute("SELECT 1 FROM ivoa.obscore WHERE obs_collection = %s LIMIT 1", (args.collection,))
        note = "" if known.fetchone() else f" (no row of {args.collection} is in ivoa.obscore yet)"
        conn.execute(
            "INSERT INTO auth.grants (group_name, obs_collection, proposal_id) VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
            (args.group, args.collection, proposal),
        )
        return f"group {args.group} may see {what} before its release{note}"
    gone = conn.execute(
        "DELETE FROM auth.grants WHERE group_name = %s AND obs_collection = %s AND proposal_id = %s",
        (args.group, args.collection, proposal),
    ).rowcount
    if not gone:
        raise CommandError(f"group {args.group} had no grant of {what}")
    return f"group {args.group} no longer sees {what} before its release"


def group_members(conn: psycopg.Connection, args: argparse.Namespace) -> str:
    for user in args.users:
        _require(conn, user)
        if args.group_action == "join":
            _join(conn, args.group, user)
        else:
            conn.execute("DELETE FROM auth.members WHERE user_name = %s AND group_name = %s", (user, args.group))
    verb = "joined" if args.group_action == "join" else "left"
    return f"{', '.join(args.users)} {verb} group {args.group}"


def group_list(conn: psycopg.Connection, args: argparse.Namespace) -> str:
    rows = conn.execute(
        "SELECT g.group_name, "
        "coalesce((SELECT string_agg(user_name, ',' ORDER BY user_name) FROM auth.members AS m "
        "WHERE m.group_name = g.group_name), ''), "
        "coalesce((SELECT string_agg(CASE WHEN proposal_id = '' THEN obs_collection "
        "ELSE obs_collection || ' proposal ' || proposal_id END, '; ' ORDER BY obs_collection, proposal_id) "
        "FROM auth.grants AS t WHERE t.group_name = g.group_name), ''), "
        "coalesce((SELECT string_agg(table_name, ',' ORDER BY table_name) FROM auth.restricted_tables AS r "
        "WHERE r.group_name = g.group_name), '') "
        "FROM (SELECT group_name FROM auth.members UNION SELECT group_name FROM auth.grants "
        "UNION SELECT group_name FROM auth.restricted_tables) AS g ORDER BY g.group_name"
    ).fetchall()
    lines = ["group\tmembers\tgranted\ttables"]
    lines += [f"{g}\t{m or '-'}\t{t or '-'}\t{r or '-'}" for g, m, t, r in rows]
    return "\n".join(lines)


# --- why ----------------------------------------------------------------------------------------------
def _identity(conn: psycopg.Connection, user: str) -> Identity:
    if user.lower() == "anonymous":
        return ANONYMOUS
    account = conn.execute("SELECT disabled FROM auth.users WHERE user_name = %s", (user,)).fetchone()
    if account is None:
        raise CommandError(f"there is no user {user!r} (dalserver user list shows them; or say anonymous)")
    if account[0]:
        raise CommandError(f"{user} is disabled: every request with their credentials is refused")
    return identity_from_membership(user, conn.execute(MEMBERSHIP, (user,)).fetchall())


def access_explain(conn: psycopg.Connection, args: argparse.Namespace) -> str:
    """Why ``USER`` does or does not see ``DID``, with the server's own condition deciding."""
    who = _identity(conn, args.user)
    row = conn.execute(
        "SELECT o.obs_publisher_did, o.obs_collection, o.proposal_id, o.obs_release_date, o.obs_release_date <= now(), "
        f"{row_filter(who, 'o')} FROM ivoa.obscore AS o WHERE lower(o.obs_publisher_did) = lower(%s)",
        (args.did,),
    ).fetchone()
    if row is None:
        return f"{args.did} is not in ivoa.obscore: nobody sees it (an anonymous request is asked to log in)"
    did, collection, proposal, release, released, visible = row
    name = who.user or "anonymous"
    described = f"{did}: collection {collection}, proposal {proposal or '(none)'}, "
    if release is None:
        described += "no release date (proprietary until one is set: ingest again with --release-date)"
    else:
        described += f"{'released' if released else 'to be released'} {release:%Y-%m-%d %H:%M} UTC"
    lines = [described]
    if released:
        lines.append(f"visible to {name}: it is public")
    elif visible:
        reasons = [g for g in sorted(who.grants) if g.collection == collection and g.proposal in (None, proposal)]
        lines.append(f"visible to {name}: their groups ({', '.join(sorted(who.groups))}) are granted {reasons[0]}")
    elif not who.authenticated:
        lines.append("not visible to anonymous users until its release date")
    else:
        granted = "; ".join(str(g) for g in sorted(who.grants)) or "nothing"
        groups = ", ".join(sorted(who.groups)) or "no group"
        lines.append(
            f"not visible to {name}: their groups ({groups}) are granted {granted}; "
            f"grant one of them {collection}"
            + (f" --proposal {proposal}" if proposal else "")
            + " with dalserver group grant"
        )
    return "\n".join(lines)


ACTIONS: dict[str, Callable[[psycopg.Connection, argparse.Namespace], str]] = {
    "user add": user_add,
    "user passwd": user_passwd,
    "user list": user_list,
    "user disable": user_disable,
    "user enable": user_disable,
    "user token": user_token,
    "token list": token_list,
    "token revoke": token_revoke,
    "group grant": group_grant,
    "group revoke": group_grant,
    "group join": group_members,
    "group leave": group_members,
    "group list": group_list,
    "access explain": access_explain,
}


def run(settings: Settings, args: argparse.Namespace) -> int:
    action = f"{args.command} {getattr(args, f'{args.command}_action')}"
    url = database_url(settings)
    bootstrap(url, settings.schema_extension_dirs)
    try:
        with psycopg.connect(url) as conn, conn.transaction():
            print(ACTIONS[action](conn, args))
    except CommandError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The user, token, group and access commands, each run by ``run``."""
    user = sub.add_parser("user", help="accounts that may see proprietary data").add_subparsers(
        dest="user_action", required=True
    )
    add = user.add_parser("add", help="add an account (the password from standard input when piped, else asked)")
    add.add_argument("name", type=_name("user"))
    add.add_argument("--group", action="append", default=[], type=_name("group"), help="a group to join (repeatable)")
    add.add_argument("--no-password", action="store_true", help="no password: the account logs in with tokens only")
    user.add_parser("passwd", help="set a new password").add_argument("name")
    user.add_parser("list", help="the accounts, their groups and active tokens")
    user.add_parser("disable", help="refuse every credential of the account").add_argument("name")
    user.add_parser("enable", help="accept the account's credentials again").add_argument("name")
    token = user.add_parser("token", help="make an API token (printed once; only its hash is kept)")
    token.add_argument("name")
    token.add_argument(
        "--expires", type=lifetime, default=timedelta(days=90), help="90d (default), 12h, 2w, 1y or never"
    )
    token.add_argument("--label", help="what the token is for, shown by token list")
    tokens = sub.add_parser("token", help="API tokens").add_subparsers(dest="token_action", required=True)
    tokens.add_parser("list", help="the tokens (never their secrets)").add_argument("--user")
    tokens.add_parser("revoke", help="refuse a token from now on (by its key, or the token itself)").add_argument("key")
    group = sub.add_parser("group", help="groups and what they may see before release").add_subparsers(
        dest="group_action", required=True
    )
    for verb, says in (
        ("grant", "let the group see a collection's (or a proposal's) data before release"),
        ("revoke", "take a grant back"),
    ):
        granted = group.add_parser(verb, help=says)
        granted.add_argument("group", type=_name("group"))
        granted.add_argument("--collection", required=True, help="obs_collection, e.g. Subaru/Suprime-Cam")
        granted.add_argument("--proposal", help="only this proposal_id of the collection")
    for verb, says in (("join", "put users in the group"), ("leave", "take users out of the group")):
        members = group.add_parser(verb, help=says)
        members.add_argument("group", type=_name("group"))
        members.add_argument("users", nargs="+")
    group.add_parser("list", help="the groups, their members, grants and tables")
    access = sub.add_parser("access", help="who sees what").add_subparsers(dest="access_action", required=True)
    explain = access.add_parser("explain", help="why a user (or anonymous) does or does not see a dataset")
    explain.add_argument("user", help="a user name, or anonymous")
    explain.add_argument("did", help="the dataset's publisher DID")
    for command in ("user", "token", "group", "access"):
        sub.choices[command].set_defaults(func=run)
