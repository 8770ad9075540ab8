"""The platform's commands: users, organisations, agreements, the audit trail, retention, serve.

They register themselves on :data:`svduty.cli.app` (``cli.py`` imports this module at its end).
Passwords are read from a prompt (twice, without echo) or, when stdin is not a terminal, from
its first line; they are never printed, and nor is a password hash.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from svduty.cli import _connect, _print_json, app, err, out, state
from svduty.errors import SvdutyError
from svduty.store.db import Store

users_app = typer.Typer(help="Users: create them, change their role, unlock them, issue tokens.")
orgs_app = typer.Typer(help="The partner organisations.")
agreements_app = typer.Typer(
    help="Data-sharing agreements: purpose, legal basis, retention, who sees records.",
    invoke_without_command=True,
)
audit_app = typer.Typer(help="The audit trail: verify its hash chain, search it.")
retention_app = typer.Typer(help="Retention: remove what is past its agreement's period.")
app.add_typer(users_app, name="users")
app.add_typer(orgs_app, name="orgs")
app.add_typer(agreements_app, name="agreements")
app.add_typer(audit_app, name="audit")
app.add_typer(retention_app, name="retention")

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]
NameArg = Annotated[str, typer.Argument(help="The user's name.")]


@contextmanager
def _store(*, ensure: bool = True) -> Iterator[Store]:
    """The store, with the partner organisations and default agreements created if missing."""
    from svduty.store.agreements import ensure_agreements
    from svduty.store.db import open_store

    store = open_store(state.settings)
    try:
        if ensure:
            ensure_agreements(store)
        yield store
    finally:
        store.dispose()


def _read_password() -> str:
    """A new password: prompted twice without echo on a terminal, else stdin's first line."""
    if sys.stdin.isatty():
        return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))
    line = sys.stdin.readline()
    if not line:
        raise SvdutyError("no password on stdin: pipe one line, e.g. printf 'PASSWORD\\n' | ...")
    return line.rstrip("\r\n")


def _e(value: Any) -> str:
    return escape("" if value is None else str(value))


@users_app.command("create")
def users_create(
    name: NameArg,
    role: Annotated[
        str, typer.Option(help="admin, dpo, analyst, commissioner or partner_data_officer.")
    ],
    org: Annotated[
        str | None, typer.Option(help="The organisation's short name (police, health...).")
    ] = None,
    oidc_subject: Annotated[
        str | None,
        typer.Option(help="Sign in through OIDC with this subject instead of a password."),
    ] = None,
) -> None:
    """Create a user; the password comes from a prompt, or from stdin's first line."""
    from svduty.store.users import create_user

    password = None if oidc_subject else _read_password()
    with _store() as store:
        user = create_user(store, name, role, org, password, oidc_subject=oidc_subject)
    out.print(
        f"Created {_e(user.name)} ({_e(user.role)}" + (f", {_e(org)}" if org else "") + ").",
        highlight=False,
    )


@users_app.command("list")
def users_list(as_json: JsonOpt = False) -> None:
    """List the users, their roles and organisations (never a password or its hash)."""
    from svduty.store.users import list_users

    with _store() as store:
        rows = list_users(store)
    if as_json:
        _print_json(rows)
        return
    if not rows:
        out.print("No users yet: svduty users create NAME --role ROLE --org ORG")
        return
    t = Table("name", "role", "org", "active", "sign-in", "locked until", "last sign-in")
    for u in rows:
        t.add_row(
            _e(u["name"]),
            u["role"],
            _e(u["org"] or ""),
            "yes" if u["active"] else "no",
            "OIDC" if u["sso"] else "password",
            _e(u["locked_until"] or ""),
            _e(u["last_login_at"] or ""),
        )
    out.print(t)


@users_app.command("set-role")
def users_set_role(
    name: NameArg,
    role: Annotated[str, typer.Argument(help="The new role.")],
    org: Annotated[str | None, typer.Option(help="Move the user to this organisation.")] = None,
) -> None:
    """Change a user's role (and optionally organisation); audited as a change of rights."""
    from svduty.store.users import set_role

    with _store() as store:
        user = set_role(store, name, role, org=org)
    out.print(f"{_e(user.name)} is now {_e(user.role)}.", highlight=False)


@users_app.command("unlock")
def users_unlock(name: NameArg) -> None:
    """Clear a user's failed sign-ins and lockout (and reactivate them)."""
    from svduty.store.users import unlock

    with _store() as store:
        user = unlock(store, name)
    out.print(f"{_e(user.name)} is unlocked.", highlight=False)


@users_app.command("deactivate")
def users_deactivate(name: NameArg) -> None:
    """Stop a user signing in and revoke their API tokens."""
    from svduty.store.users import deactivate

    with _store() as store:
        user = deactivate(store, name)
    out.print(f"{_e(user.name)} is deactivated; their tokens are revoked.", highlight=False)


@users_app.command("password")
def users_password(name: NameArg) -> None:
    """Set a user's password (from a prompt, or stdin's first line)."""
    from svduty.store.users import set_password

    password = _read_password()
    with _store() as store:
        user = set_password(store, name, password)
    out.print(f"The password of {_e(user.name)} is changed.", highlight=False)


@users_app.command("token")
def users_token(
    name: NameArg,
    days: Annotated[int, typer.Option(help="Days until the token expires.")] = 90,
    label: Annotated[str, typer.Option("--label", help="What the token is for.")] = "",
) -> None:
    """Issue an API bearer token for a user; it is printed once and never stored."""
    from svduty.store.users import create_token, get_user_by_name

    with _store() as store:
        user = get_user_by_name(store, name)
        if user is None:
            raise SvdutyError(f"there is no user {name}; `svduty users list` shows them")
        token = create_token(store, user.id, label, days)
    err.print(f"Token for {_e(name)}, valid {days} days (shown once, keep it secret):")
    print(token)


@orgs_app.command("list")
def orgs_list(as_json: JsonOpt = False) -> None:
    """List the partner organisations."""
    from svduty.store.agreements import list_orgs

    with _store() as store:
        rows = list_orgs(store)
    if as_json:
        _print_json(rows)
        return
    if not rows:
        out.print("No organisations.")
        return
    t = Table("short name", "name", "kind", "users")
    for o in rows:
        t.add_row(_e(o["short_name"]), _e(o["name"]), _e(o["kind"]), str(o["users"]))
    out.print(t)


def _print_agreements(rows: list[dict[str, Any]], as_json: bool) -> None:
    if as_json:
        _print_json(rows)
        return
    t = Table("feed", "owner", "retention", "record-level", "aggregates", "legal basis")
    t.columns[-1].overflow = "fold"
    for a in rows:
        who = ", ".join(a["record_roles"]) or "nobody"
        if a["record_orgs"]:
            who += " of " + ", ".join(a["record_orgs"])
        t.add_row(
            _e(a["feed"]),
            _e(a["owner"] or ""),
            f"{a['retention_months']} months",
            _e(who),
            _e(", ".join(a["aggregate_roles"])),
            _e(a["legal_basis"]),
        )
    out.print(t)


@agreements_app.callback()
def agreements_main(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """Data-sharing agreements (without a subcommand: list them)."""
    if ctx.invoked_subcommand is None:
        agreements_list(as_json)


@agreements_app.command("list")
def agreements_list(as_json: JsonOpt = False) -> None:
    """List each feed's agreement (the defaults are created on first use)."""
    from svduty.store.agreements import list_agreements

    with _store() as store:
        rows = list_agreements(store)
    _print_agreements(rows, as_json)


@agreements_app.command("show")
def agreements_show(
    feed: Annotated[str, typer.Argument(help="The feed (police-crime, istv...).")],
    as_json: JsonOpt = False,
) -> None:
    """Show one feed's agreement in full."""
    from svduty.store.agreements import agreement, as_dict

    with _store() as store:
        row = agreement(store, feed)
    if row is None:
        raise SvdutyError(f"there is no agreement for the feed {feed!r}; see svduty agreements")
    d = as_dict(row)
    if as_json:
        _print_json(d)
        return
    for k, v in d.items():
        shown = ", ".join(v) if isinstance(v, list) else v
        out.print(f"[bold]{k}[/bold]: {_e(shown)}", highlight=False, soft_wrap=True)


@agreements_app.command("set")
def agreements_set(
    feed: Annotated[str, typer.Argument(help="The feed whose agreement changes.")],
    retention_months: Annotated[
        int | None, typer.Option(help="Months its data is kept.", show_default=False)
    ] = None,
    record_roles: Annotated[
        str | None,
        typer.Option(help="Roles that see record-level rows, comma-separated.", show_default=False),
    ] = None,
    record_orgs: Annotated[
        str | None,
        typer.Option(
            help="Only users of these organisations see record-level rows (comma-separated; "
            "'' for any).",
            show_default=False,
        ),
    ] = None,
    aggregate_roles: Annotated[
        str | None,
        typer.Option(help="Roles that see aggregates, comma-separated.", show_default=False),
    ] = None,
    purpose: Annotated[str | None, typer.Option(help="Why it is shared.")] = None,
    legal_basis: Annotated[str | None, typer.Option(help="The legal basis for sharing.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Change a feed's agreement; audited as a change of rights."""
    from svduty.store.agreements import set_agreement

    with _store() as store:
        d = set_agreement(
            store,
            feed,
            retention_months=retention_months,
            record_roles=record_roles,
            record_orgs=record_orgs,
            aggregate_roles=aggregate_roles,
            purpose=purpose,
            legal_basis=legal_basis,
        )
    _print_agreements([d], as_json)


@audit_app.command("verify")
def audit_verify(as_json: JsonOpt = False) -> None:
    """Check the hash chain: exit 1, listing each problem, if any event was changed or deleted."""
    from svduty.store.audit import verify

    with _store(ensure=False) as store:
        count, problems = verify(store)
    if as_json:
        _print_json(
            {"events": count, "ok": not problems, "problems": [p.as_json() for p in problems]}
        )
    elif problems:
        for p in problems:
            where = f"event {p.event_id}" if p.event_id is not None else "the trail"
            err.print(f"[red]broken:[/red] {where} {_e(p.message)}", highlight=False)
        err.print(f"Audit trail BROKEN: {len(problems)} problem(s) in {count:,} events.")
    else:
        out.print(f"Audit trail intact: {count:,} events.", highlight=False)
    if problems:
        raise typer.Exit(1)


@audit_app.command("search")
def audit_search(
    actor: Annotated[str | None, typer.Option(help="Who acted (a user name).")] = None,
    action: Annotated[
        str | None, typer.Option(help="sign-in, upload, export, rights, retention...")
    ] = None,
    since: Annotated[str | None, typer.Option(help="From this date (YYYY-MM-DD).")] = None,
    until: Annotated[str | None, typer.Option(help="To this date (YYYY-MM-DD), inclusive.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many events, newest first.")] = 50,
    as_json: JsonOpt = False,
) -> None:
    """Search the audit trail, newest first."""
    from svduty.store.audit import search

    with _store(ensure=False) as store:
        rows = search(store, actor=actor, action=action, since=since, until=until, limit=limit)
    if as_json:
        _print_json(rows)
        return
    if not rows:
        out.print("No events match.")
        return
    t = Table("id", "at", "actor", "role", "org", "action", "resource", "outcome")
    for r in rows:
        t.add_row(
            str(r["id"]),
            r["at"][:19].replace("T", " "),
            _e(r["actor"]),
            _e(r["role"]),
            _e(r["org"]),
            _e(r["action"]),
            _e(r["resource"]),
            _e(r["outcome"]),
        )
    out.print(t)


@retention_app.command("apply")
def retention_apply(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Count what would go; remove nothing.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Remove each feed's data older than its agreement's retention period, and record it."""
    from svduty.store.retention import apply_retention

    con = _connect()
    try:
        with _store() as store:
            report = apply_retention(state.settings, store, con, dry_run=dry_run)
    finally:
        if hasattr(con, "disconnect"):
            con.disconnect()
    if as_json:
        _print_json(report)
        return
    title = "Retention (dry run: nothing removed)" if dry_run else "Retention applied"
    t = Table(
        "feed",
        "kept from",
        "rows",
        "quarantined",
        "loads",
        "links",
        "files",
        "uploads",
        title=title,
    )
    for e in report:
        t.add_row(
            _e(e["feed"]),
            e["before_month"],
            f"{e['rows_removed']:,}",
            f"{e['quarantine_removed']:,}",
            f"{e['loads_removed']:,}",
            f"{e['links_removed']:,}",
            f"{e['files_removed']:,}",
            f"{e['uploads_removed']:,}",
        )
    out.print(t)


@app.command("serve")
def serve_cmd(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
) -> None:
    """Run the web platform (the partner portal, the dashboards, the API)."""
    import uvicorn

    from svduty.web.app import create_app

    uvicorn.run(create_app(state.settings), host=host, port=port, log_level="info")
