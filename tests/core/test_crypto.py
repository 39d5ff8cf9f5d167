import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

from core.crypto import DecryptionError, decrypt_text, encrypt_text, rotate_text


def test_round_trip_hides_the_plaintext():
    # given a secret
    secret = "gho_16C7e42F292c6912E7710c838347Ae178B4a"
    # when it is encrypted
    stored = encrypt_text(secret)
    # then the stored value does not contain it, and decrypts back to it
    assert secret not in stored
    assert decrypt_text(stored) == secret


def test_each_encryption_is_randomised():
    assert encrypt_text("same") != encrypt_text("same")


def test_unicode_survives():
    assert decrypt_text(encrypt_text("clé ✓ 鍵")) == "clé ✓ 鍵"


def test_tampered_value_is_rejected():
    stored = encrypt_text("secret")
    tampered = stored[:-4] + ("AAAA" if not stored.endswith("AAAA") else "BBBB")
    with pytest.raises(DecryptionError):
        decrypt_text(tampered)


def test_garbage_is_rejected():
    with pytest.raises(DecryptionError):
        decrypt_text("not a token ✗")


def test_fernet_key_from_settings_is_used_as_is(settings):
    # given an explicit Fernet key
    key = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEY = key
    # when a value is encrypted
    stored = encrypt_text("secret")
    # then plain Fernet with that key opens it
    assert Fernet(key.encode()).decrypt(stored.encode()) == b"secret"


def test_passphrase_key_is_derived(settings):
    settings.FIELD_ENCRYPTION_KEY = "a long passphrase that is not a fernet key"
    assert decrypt_text(encrypt_text("secret")) == "secret"


def test_value_from_another_key_is_rejected(settings):
    settings.FIELD_ENCRYPTION_KEY = Fernet.generate_key().decode()
    stored = encrypt_text("secret")
    settings.FIELD_ENCRYPTION_KEY = Fernet.generate_key().decode()
    with pytest.raises(DecryptionError):
        decrypt_text(stored)


def test_key_rotation_keeps_old_values_readable(settings):
    # given a value stored under the old key
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEY = old
    stored = encrypt_text("secret")
    # when a new key is put in front
    settings.FIELD_ENCRYPTION_KEY = f"{new},{old}"
    # then the old value still decrypts, and rotating it moves it to the new key
    assert decrypt_text(stored) == "secret"
    rotated = rotate_text(stored)
    settings.FIELD_ENCRYPTION_KEY = new
    assert decrypt_text(rotated) == "secret"


def test_development_falls_back_to_secret_key(settings):
    settings.FIELD_ENCRYPTION_KEY = ""
    settings.ENVIRONMENT = "development"
    stored = encrypt_text("secret")
    settings.SECRET_KEY = "another secret key for this test only"
    with pytest.raises(DecryptionError):
        decrypt_text(stored)


def test_production_requires_an_explicit_key(settings):
    settings.FIELD_ENCRYPTION_KEY = ""
    settings.ENVIRONMENT = "production"
    with pytest.raises(ImproperlyConfigured):
        encrypt_text("secret")
