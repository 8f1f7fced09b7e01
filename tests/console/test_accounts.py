"""Accounts (``corrections.auth``, ``corrections.passwords``): the password policy, hashing, explicit scopes and
the demo accounts."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import select, text

from corrections.access import Actor, Scope
from corrections.auth import create_user, disable_demo_accounts, ensure_demo_accounts
from corrections.db import make_engine, migrate, session_scope
from corrections.models import AuditEntry, User
from corrections.passwords import DEMO_PASSWORD, WeakPassword, check_password, hash_password, needs_rehash
from tests.console.conftest import Scenario, reset_postgres


@pytest.mark.parametrize(
    ("password", "role", "reason"),
    [
        ("12345678", "admin", "16 ký tự"),
        ("hai-tu-ngan", "ward_officer", "12 ký tự"),
        ("123456789012", "ward_officer", "dễ đoán"),
        ("qwertyuiopasdf", "data_officer", "dễ đoán"),
        ("matkhau123456", "ward_officer", "dễ đoán"),
        ("Password12345678", "admin", "dễ đoán"),
        ("congan.00004-mat-khau-moi", "ward_officer", "tên đăng nhập"),
        (DEMO_PASSWORD, "data_officer", "thử nghiệm"),
        ("x" * 129, "admin", "128"),
    ],
)
def test_weak_passwords_are_refused_with_the_reason(password: str, role: str, reason: str) -> None:
    with pytest.raises(WeakPassword, match=reason):
        check_password(password, role=role, username="congan.00004")


@pytest.mark.parametrize(
    ("password", "role"),
    [("Cay-tre-xanh-ven-song-Hong", "ward_officer"), ("Ngua-o-nhu-tho-song-nui-Tan-Vien", "admin")],
)
def test_passphrases_pass(password: str, role: str) -> None:
    check_password(password, role=role, username="congan.00004")


def test_only_current_argon2id_hashes_are_kept() -> None:
    assert needs_rehash("scrypt$16384$8$1$00$00")
    assert needs_rehash("$argon2id$v=19$m=4096,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo")
    assert not needs_rehash(hash_password("Cay-tre-xanh-ven-song-Hong"))


def test_data_officers_need_an_explicit_scope(store: Scenario) -> None:
    with session_scope(store.engine, write=True) as session:
        with pytest.raises(ValueError, match="phạm vi"):
            create_user(session, "dulieu.x", "Cay-tre-xanh-ven-song-Hong", "data_officer", display_name="x")
        national = create_user(
            session, "dulieu.tq", "Cay-tre-xanh-ven-song-Hong", "data_officer", display_name="x", national=True
        )
        assert Actor.of(national).scope == Scope("national")
    # A data officer stored with neither (an account written by hand) sees nothing rather than everything.
    assert Scope.of(Actor(1, "x", "x", "data_officer", None, None)) == Scope("none")


def test_demo_seeding_marks_its_accounts_and_leaves_real_ones_alone(store: Scenario) -> None:
    with session_scope(store.engine) as session:
        real_admin = session.scalar(select(User.password_hash).where(User.username == "quantri"))
    with session_scope(store.engine, write=True) as session:
        seeding = ensure_demo_accounts(session)
    assert seeding.kept == ["quantri"] and {a.username for a in seeding.accounts} == {
        f"dulieu.{store.province}",
        f"congan.{store.ward_a}",
        f"congan.{store.ward_b}",
    }
    with session_scope(store.engine, write=True) as session:
        assert session.scalar(select(User.password_hash).where(User.username == "quantri")) == real_admin
        assert sorted(disable_demo_accounts(session, reason="test")) == sorted(a.username for a in seeding.accounts)
        assert disable_demo_accounts(session, reason="test") == []


def _old_scrypt(password: str) -> str:
    """A hash as releases before issue 15 wrote them."""
    salt = bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1, dklen=32)
    return f"scrypt$16384$8$1${salt.hex()}${digest.hex()}"


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_upgrade_marks_demo_accounts_national_scope_and_audit_provinces(
    backend: str, tmp_path: object, request: pytest.FixtureRequest
) -> None:
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path}/old.sqlite"
    else:
        url = request.getfixturevalue("postgres_url")
        reset_postgres(url)
    engine = make_engine(url)
    migrate(engine, "0002")
    users = [
        # (username, display name, password, role, ward, province): what the old seeding and --add-user wrote.
        ("quantri", "Quản trị hệ thống", "mat-khau-da-doi-rat-dai", "admin", None, None),  # hardened
        ("dulieu.01", "Cán bộ quản lý dữ liệu tỉnh", DEMO_PASSWORD, "data_officer", None, "01"),
        ("congan.00004", "Công an Phường Ba Đình", DEMO_PASSWORD, "ward_officer", "00004", "01"),
        ("congan.00008", "Trung uý Lê Văn Tám", DEMO_PASSWORD, "ward_officer", "00008", "01"),  # not the seeding's
        ("dulieu.tw", "Cán bộ dữ liệu", "mat-khau-da-doi-rat-dai", "data_officer", None, None),
    ]
    with engine.begin() as connection:
        for username, display, password, role, ward, province in users:
            connection.execute(
                text(
                    "INSERT INTO users (username, display_name, password_hash, role, ward_code, province_code, active, "
                    "created_at) VALUES (:u, :d, :h, :r, :w, :p, :a, '2025-07-02 00:00:00+00:00')"
                ),
                {
                    "u": username,
                    "d": display,
                    "h": _old_scrypt(password),
                    "r": role,
                    "w": ward,
                    "p": province,
                    "a": True,
                },
            )
        for actor, action, ward in [
            ("congan.00004", "claim", "00004"),
            ("dulieu.01", "login", None),
            ("x", "login_failed", None),
        ]:
            connection.execute(
                text(
                    "INSERT INTO audit_log (at, actor, action, ward_code) "
                    "VALUES ('2025-07-02 00:00:00+00:00', :a, :c, :w)"
                ),
                {"a": actor, "c": action, "w": ward},
            )
    migrate(engine)
    with session_scope(engine) as session:
        flags = {u.username: (u.demo, u.national) for u in session.scalars(select(User))}
        provinces = dict(session.execute(select(AuditEntry.actor, AuditEntry.province_code)).tuples().all())
    assert flags == {
        "quantri": (False, True),
        "dulieu.01": (True, False),
        "congan.00004": (True, False),
        "congan.00008": (False, False),
        "dulieu.tw": (False, True),  # had national scope without a province: keeps it, now explicitly
    }
    assert provinces == {"congan.00004": "01", "dulieu.01": "01", "x": None}
    engine.dispose()
