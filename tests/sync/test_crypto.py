"""The keys that encrypt stored secrets (sync.crypto): the first of TOKEN_ENCRYPTION_KEYS
encrypts, all decrypt; `reencrypt_secrets` moves every stored secret onto the first key; the
older single TOKEN_ENCRYPTION_KEY and the SECRET_KEY-derived keys still read what they wrote."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet, InvalidToken
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command

from sync import crypto
from sync.checks import check_encryption_keys, check_explicit_encryption_keys
from sync.crypto import TokenUnreadable, decrypt_token, encrypt_token
from sync.models import ChangeFeed, Connection, FeedState
from sync.services.encryption import secrets_reencrypt
from tests.factories import OrganizationFactory

KEY_A, KEY_B, KEY_C = (Fernet.generate_key().decode() for _ in range(3))
PROJECT_ROOT = Path(__file__).resolve().parents[2]


def reads(key: str, ciphertext: str) -> bool:
    try:
        Fernet(key).decrypt(ciphertext.encode())
    except InvalidToken:
        return False
    return True


def stored(model, pk, field="token_encrypted") -> str:
    return getattr(model.objects.unscoped().get(pk=pk), field)


@pytest.fixture
def keys(settings):
    """`keys(A, B)`: configure TOKEN_ENCRYPTION_KEYS (the older single key unset)."""

    def configure(*configured: str) -> None:
        settings.TOKEN_ENCRYPTION_KEYS = list(configured)
        settings.TOKEN_ENCRYPTION_KEY = ""

    return configure


def make_connection(organization, token: str, n: int = 1) -> Connection:
    return Connection.objects.create(
        organization=organization,
        name=f"Base {n}",
        base_id=f"appBASE{n:010d}",
        token_encrypted=encrypt_token(token),
        token_last4=token[-4:],
    )


def make_feed(connection: Connection, secret: str) -> ChangeFeed:
    return ChangeFeed.objects.create(
        organization=connection.organization,
        connection=connection,
        state=FeedState.ACTIVE,
        webhook_id=f"ach{connection.pk:014d}",
        mac_secret_encrypted=encrypt_token(secret),
    )


def reencrypt(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("reencrypt_secrets", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_first_key_encrypts_every_key_decrypts(keys):
    keys(KEY_A)
    old = encrypt_token("patOLD.secret")
    assert reads(KEY_A, old)
    keys(KEY_B, KEY_A)
    assert decrypt_token(old) == "patOLD.secret"
    new = encrypt_token("patNEW.secret")
    assert reads(KEY_B, new) and not reads(KEY_A, new)
    keys(KEY_B)
    with pytest.raises(TokenUnreadable):
        decrypt_token(old)
    assert decrypt_token(new) == "patNEW.secret"


@pytest.mark.django_db
def test_rotation_reencrypts_every_secret_onto_the_first_key(keys):
    keys(KEY_A)
    acme, borealis = OrganizationFactory(slug="acme"), OrganizationFactory(slug="borealis")
    first = make_connection(acme, "patACME.token.0001", 1)
    second = make_connection(borealis, "patBOREALIS.token.02", 2)
    feed = make_feed(first, "bWFjLXNlY3JldA==")
    keys(KEY_B, KEY_A)

    out, err = reencrypt()

    assert out.strip() == "re-encrypted 2 tokens and 1 webhook MAC secret, 0 unreadable"
    assert err == ""
    for ciphertext in (
        stored(Connection, first.pk),
        stored(Connection, second.pk),
        stored(ChangeFeed, feed.pk, "mac_secret_encrypted"),
    ):
        assert reads(KEY_B, ciphertext) and not reads(KEY_A, ciphertext)
    # The old key can go: the new one alone reads everything.
    keys(KEY_B)
    assert decrypt_token(stored(Connection, first.pk)) == "patACME.token.0001"
    assert decrypt_token(stored(Connection, second.pk)) == "patBOREALIS.token.02"
    assert decrypt_token(stored(ChangeFeed, feed.pk, "mac_secret_encrypted")) == (
        "bWFjLXNlY3JldA=="
    )


@pytest.mark.django_db
def test_batches_cover_every_row(keys):
    keys(KEY_A)
    org = OrganizationFactory()
    connections = [make_connection(org, f"patTOKEN.number.{n:04d}", n) for n in range(5)]
    keys(KEY_B, KEY_A)

    report = secrets_reencrypt(batch_size=2)

    assert report.reencrypted == {"token": 5, "webhook MAC secret": 0}
    assert all(reads(KEY_B, stored(Connection, c.pk)) for c in connections)


@pytest.mark.django_db
def test_unreadable_secrets_are_named_left_alone_and_fail_the_command(keys):
    keys(KEY_C)  # a key that is later lost
    lost = make_connection(OrganizationFactory(slug="lost-org"), "patLOST.token.0001", 1)
    lost_ciphertext = stored(Connection, lost.pk)
    keys(KEY_A)
    kept = make_connection(OrganizationFactory(slug="kept-org"), "patKEPT.token.0002", 2)
    keys(KEY_B, KEY_A)

    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError) as failure:
        call_command("reencrypt_secrets", stdout=out, stderr=err)

    assert failure.value.returncode == 1
    assert out.getvalue().strip() == "re-encrypted 1 token and 0 webhook MAC secrets, 1 unreadable"
    assert f"connection {lost.pk} (organization lost-org)" in err.getvalue()
    assert "kept-org" not in err.getvalue()
    everything = out.getvalue() + err.getvalue() + str(failure.value)
    assert lost_ciphertext not in everything and "patLOST" not in everything
    assert stored(Connection, lost.pk) == lost_ciphertext  # untouched
    assert reads(KEY_B, stored(Connection, kept.pk))


@pytest.mark.django_db
def test_dry_run_reads_everything_and_writes_nothing(keys):
    keys(KEY_A)
    connection = make_connection(OrganizationFactory(), "patDRY.run.token.01")
    feed = make_feed(connection, "ZHJ5LXJ1bg==")

    def both() -> tuple[str, str]:
        return stored(Connection, connection.pk), stored(
            ChangeFeed, feed.pk, "mac_secret_encrypted"
        )

    before = both()
    keys(KEY_B, KEY_A)

    out, _ = reencrypt("--dry-run")

    assert out.strip() == "would re-encrypt 1 token and 1 webhook MAC secret, 0 unreadable"
    assert both() == before


def test_legacy_single_key_still_encrypts_and_decrypts(settings):
    settings.TOKEN_ENCRYPTION_KEYS = []
    settings.TOKEN_ENCRYPTION_KEY = KEY_A
    ciphertext = encrypt_token("patLEGACY.token.01")
    assert reads(KEY_A, ciphertext)
    assert not crypto.uses_derived_key()
    # Next to the list it only decrypts: moving to TOKEN_ENCRYPTION_KEYS loses nothing.
    settings.TOKEN_ENCRYPTION_KEYS = [KEY_B]
    assert decrypt_token(ciphertext) == "patLEGACY.token.01"
    assert reads(KEY_B, encrypt_token("patNEW.token.0001"))


def test_settings_read_the_keys_from_the_environment():
    def settings_keys(**env: str) -> str:
        environ = {k: v for k, v in os.environ.items() if not k.startswith("TOKEN_ENCRYPTION")}
        code = (
            "import missionos.settings as s; "
            "print(repr(s.TOKEN_ENCRYPTION_KEYS), repr(s.TOKEN_ENCRYPTION_KEY))"
        )
        result = subprocess.run(
            [sys.executable, "-c", code],
            cwd=PROJECT_ROOT,
            env={**environ, **env},
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        return result.stdout.strip()

    assert settings_keys(TOKEN_ENCRYPTION_KEYS=f" {KEY_B}, {KEY_A} ,") == (
        f"[{KEY_B!r}, {KEY_A!r}] ''"
    )
    assert settings_keys(TOKEN_ENCRYPTION_KEY=KEY_A) == f"[] {KEY_A!r}"


def test_without_keys_the_secret_key_derived_key_is_used_and_its_fallbacks_decrypt(settings):
    settings.TOKEN_ENCRYPTION_KEYS = []
    settings.TOKEN_ENCRYPTION_KEY = ""
    settings.SECRET_KEY = "the-old-secret-key-" + "x" * 40
    settings.SECRET_KEY_FALLBACKS = []
    assert crypto.uses_derived_key()
    ciphertext = encrypt_token("patDERIVED.token1")

    settings.SECRET_KEY = "the-new-secret-key-" + "y" * 40
    with pytest.raises(TokenUnreadable):
        decrypt_token(ciphertext)
    settings.SECRET_KEY_FALLBACKS = ["the-old-secret-key-" + "x" * 40]
    assert decrypt_token(ciphertext) == "patDERIVED.token1"
    rotated = crypto.reencrypt_token(ciphertext)
    settings.SECRET_KEY_FALLBACKS = []
    assert decrypt_token(rotated) == "patDERIVED.token1"


def test_derived_key_still_decrypts_once_explicit_keys_are_set(settings):
    """Moving off the derived key: set a key, run reencrypt_secrets; nothing is lost between."""
    settings.TOKEN_ENCRYPTION_KEYS = []
    settings.TOKEN_ENCRYPTION_KEY = ""
    ciphertext = encrypt_token("patDERIVED.token2")
    settings.TOKEN_ENCRYPTION_KEYS = [KEY_A]
    assert decrypt_token(ciphertext) == "patDERIVED.token2"
    assert reads(KEY_A, crypto.reencrypt_token(ciphertext))


@pytest.mark.parametrize(
    ("keys_setting", "legacy", "where"),
    [
        ([KEY_A, "not-a-fernet-key"], "", "TOKEN_ENCRYPTION_KEYS: key 2 of 2"),
        (["", KEY_A], "", "TOKEN_ENCRYPTION_KEYS: key 1 of 2"),
        ([KEY_A[:-4] + "!!!="], "", "TOKEN_ENCRYPTION_KEYS: key 1 of 1"),
        ([], "not-a-fernet-key", "TOKEN_ENCRYPTION_KEY is"),
    ],
)
def test_a_malformed_key_names_the_setting_and_position_never_the_key(
    settings, keys_setting, legacy, where
):
    settings.TOKEN_ENCRYPTION_KEYS = keys_setting
    settings.TOKEN_ENCRYPTION_KEY = legacy
    with pytest.raises(ImproperlyConfigured) as error:
        encrypt_token("patANY.token.0001")
    message = str(error.value)
    assert where in message and "not a Fernet key" in message
    for key in [*keys_setting, legacy]:
        assert not key or key not in message
    assert error.value.__cause__ is None and error.value.__suppress_context__
    # `manage.py check` (and so every server start) says the same.
    [problem] = check_encryption_keys()
    assert problem.id == "sync.E001" and problem.level == checks.ERROR
    assert where in problem.msg


def test_deploy_check_warns_on_the_derived_key(settings):
    settings.TOKEN_ENCRYPTION_KEYS = []
    settings.TOKEN_ENCRYPTION_KEY = ""
    [warning] = check_explicit_encryption_keys()
    assert warning.id == "sync.W001" and warning.level == checks.WARNING
    assert "TOKEN_ENCRYPTION_KEYS" in warning.hint
    deploy_ids = {message.id for message in checks.run_checks(include_deployment_checks=True)}
    assert "sync.W001" in deploy_ids
    assert "sync.W001" not in {message.id for message in checks.run_checks()}

    settings.TOKEN_ENCRYPTION_KEYS = [KEY_A]
    assert check_explicit_encryption_keys() == []
    assert check_encryption_keys() == []
    settings.TOKEN_ENCRYPTION_KEYS = []
    settings.TOKEN_ENCRYPTION_KEY = KEY_A
    assert check_explicit_encryption_keys() == []
