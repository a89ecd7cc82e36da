import pytest
from cryptography.fernet import Fernet
from django.db import connection

from ledgerbridge.secrets import SecretUnreadable, decrypt, encrypt, secrets_rotate
from ledgerbridge.xero.models import XeroConnection
from tests.ledgerbridge.factories import make_company


def raw_refresh_token(pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT refresh_token FROM xero_xeroconnection WHERE id = %s", [pk])
        return cursor.fetchone()[0]


def test_values_round_trip_and_are_not_stored_in_the_clear(settings):
    settings.ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    token = encrypt("refresh-abc")
    assert "refresh-abc" not in token
    assert decrypt(token) == "refresh-abc"


@pytest.mark.django_db
def test_rotation_re_encrypts_with_the_new_key_and_the_old_key_can_go(settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.ENCRYPTION_KEYS = [old]
    link = XeroConnection.objects.create(
        company=make_company(starter=False), access_token="access-1", refresh_token="refresh-1"
    )
    before = raw_refresh_token(link.pk)

    settings.ENCRYPTION_KEYS = [new, old]
    assert secrets_rotate() == 2
    after = raw_refresh_token(link.pk)
    assert after != before

    settings.ENCRYPTION_KEYS = [new]
    assert XeroConnection.objects.get(pk=link.pk).refresh_token == "refresh-1"
    settings.ENCRYPTION_KEYS = [old]
    with pytest.raises(SecretUnreadable, match="LEDGERBRIDGE_ENCRYPTION_KEYS"):
        XeroConnection.objects.get(pk=link.pk)
