import pytest
from cryptography.fernet import Fernet

from communitygrid.privacy import crypto


@pytest.fixture
def key_a():
    return Fernet.generate_key().decode()


@pytest.fixture
def key_b():
    return Fernet.generate_key().decode()


def test_encrypt_then_decrypt_returns_the_plaintext(settings, key_a):
    settings.FIELD_ENCRYPTION_KEYS = [key_a]
    token = crypto.encrypt("13812345678 张三")
    assert "1381234" not in token
    assert crypto.decrypt(token) == "13812345678 张三"


def test_two_encryptions_of_one_value_differ(settings, key_a):
    settings.FIELD_ENCRYPTION_KEYS = [key_a]
    assert crypto.encrypt("same") != crypto.encrypt("same")


def test_old_key_still_decrypts_until_rotated_away(settings, key_a, key_b):
    settings.FIELD_ENCRYPTION_KEYS = [key_a]
    token_a = crypto.encrypt("secret")
    settings.FIELD_ENCRYPTION_KEYS = [key_b, key_a]
    assert crypto.decrypt(token_a) == "secret"
    rotated = crypto.rotate(token_a)
    settings.FIELD_ENCRYPTION_KEYS = [key_b]
    assert crypto.decrypt(rotated) == "secret"
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(token_a)


def test_decrypt_with_unknown_key_raises_a_named_error(settings, key_a, key_b):
    settings.FIELD_ENCRYPTION_KEYS = [key_a]
    token = crypto.encrypt("secret")
    settings.FIELD_ENCRYPTION_KEYS = [key_b]
    with pytest.raises(crypto.DecryptionError, match="CG_FIELD_KEYS"):
        crypto.decrypt(token)


@pytest.mark.parametrize(
    ("kind", "a", "b"),
    [
        ("phone", "+86 138-1234-5678", "13812345678"),
        ("phone", "86 13812345678", "138 1234 5678"),
        ("phone", "１３８１２３４５６７８", "13812345678"),  # full-width digits (NFKC)
        ("id_number", "11010519491231002x", "11010519491231002X"),
        ("id_number", " 110105 19491231 002X ", "11010519491231002X"),
        ("address", "测试路  1号\t2单元", "测试路 1号 2单元"),
    ],
)
def test_blind_index_treats_equivalent_spellings_as_equal(kind, a, b):
    assert crypto.normalise(kind, a) == crypto.normalise(kind, b)
    assert crypto.blind_index(kind, a) == crypto.blind_index(kind, b)


def test_blind_index_is_domain_separated_by_kind():
    assert crypto.blind_index("phone", "13812345678") != crypto.blind_index("id_number", "13812345678")


def test_blind_index_depends_on_the_key(settings):
    before = crypto.blind_index("phone", "13812345678")
    settings.BLIND_INDEX_KEY = "another-key"
    assert crypto.blind_index("phone", "13812345678") != before
    assert len(before) == 32


def test_a_short_number_starting_with_86_is_not_stripped():
    # Only a 13-digit "86"+mobile loses its country code; 8612345 is a local number.
    assert crypto.normalise("phone", "8612345") == "8612345"
