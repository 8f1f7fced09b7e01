"""Accounts (``corrections.auth``, ``corrections.passwords``): the password policy, hashing, explicit scopes and
the demo accounts."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from corrections.access import Actor, Scope
from corrections.auth import create_user, disable_demo_accounts, ensure_demo_accounts
from corrections.db import session_scope
from corrections.models import User
from corrections.passwords import DEMO_PASSWORD, WeakPassword, check_password, hash_password, needs_rehash
from tests.console.conftest import Scenario


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
