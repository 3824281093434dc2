"""Field encryption at rest (MultiFernet) and keyed-hash blind indexes for exact-match search.

Keys never live in the repository. They come from the environment:
- SAFERHUB_FIELD_KEYS: comma-separated Fernet keys, newest first (the first encrypts; all decrypt);
- or SAFERHUB_FIELD_KEYS_FILE: a file with one key per line, newest first.
- SAFERHUB_BLIND_INDEX_KEY (or the first line of SAFERHUB_BLIND_INDEX_KEY_FILE): the HMAC key for
  blind indexes. It is separate from the encryption keys and is not rotated with them, since every
  index would have to be recomputed from decrypted values (`saferhub keys reindex` does that).
Without either, a development key pair is generated once under SAFERHUB_DATA_DIR/keys (mode 0600),
which `make run` uses; production settings refuse to start without configured keys."""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import unicodedata
from functools import lru_cache
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models

PREFIX = "fernet:"


def _key_dir() -> Path:
    return Path(settings.DATA_DIR) / "keys"


def _read_lines(path: Path) -> list[str]:
    return [line.strip() for line in path.read_text().splitlines() if line.strip() and not line.startswith("#")]


def _development_file(name: str, make) -> Path:
    if getattr(settings, "SAFERHUB_REQUIRE_CONFIGURED_KEYS", False):
        raise ImproperlyConfigured(
            "Set SAFERHUB_FIELD_KEYS (or SAFERHUB_FIELD_KEYS_FILE) and SAFERHUB_BLIND_INDEX_KEY "
            "(or SAFERHUB_BLIND_INDEX_KEY_FILE): production does not generate keys.")
    directory = _key_dir()
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    if not path.exists():
        # Written to a temporary name and linked into place, so a process starting at the same
        # moment never reads a half-written key; whichever link lands first is the key.
        temporary = directory / f".{name}.{os.getpid()}"
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(make() + "\n")
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass
        finally:
            temporary.unlink()
    return path


def field_keys_file() -> Path | None:
    """The key file `saferhub keys rotate` may write to: configured or development."""
    if os.environ.get("SAFERHUB_FIELD_KEYS"):
        return None
    configured = os.environ.get("SAFERHUB_FIELD_KEYS_FILE")
    if configured:
        return Path(configured)
    return _development_file("field-keys", lambda: Fernet.generate_key().decode())


def field_keys() -> list[str]:
    inline = os.environ.get("SAFERHUB_FIELD_KEYS")
    if inline:
        return [k.strip() for k in inline.split(",") if k.strip()]
    return _file_keys(field_keys_file())


def _file_keys(path: Path) -> list[str]:
    """The keys in `path`, read again only when the file changes (a rotation rewrites it), so a
    running process picks up a new key without reading the file for every value."""
    stat = path.stat()
    signature = (str(path), stat.st_mtime_ns, stat.st_size, stat.st_ino)
    if _file_cache.get("signature") != signature:
        _file_cache.update(signature=signature, keys=_read_lines(path))
    return _file_cache["keys"]


_file_cache: dict = {}


def blind_index_key() -> bytes:
    inline = os.environ.get("SAFERHUB_BLIND_INDEX_KEY")
    if inline:
        return inline.encode()
    configured = os.environ.get("SAFERHUB_BLIND_INDEX_KEY_FILE")
    path = Path(configured) if configured else _development_file("blind-index-key", lambda: Fernet.generate_key().decode())
    return _read_lines(path)[0].encode()


@lru_cache(maxsize=1)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured("No field encryption keys are configured")
    return MultiFernet([Fernet(k.encode()) for k in keys])


def fernet() -> MultiFernet:
    return _fernet(tuple(field_keys()))


def keys_reload() -> None:
    """Forget cached keys (after rotation, or when tests change them)."""
    _fernet.cache_clear()
    _file_cache.clear()


def encrypt(plaintext: str) -> str:
    return PREFIX + fernet().encrypt(plaintext.encode("utf-8")).decode("ascii")


def decrypt(stored: str) -> str:
    if not stored.startswith(PREFIX):
        raise ValueError("The stored value is not encrypted")
    try:
        return fernet().decrypt(stored[len(PREFIX):].encode("ascii")).decode("utf-8")
    except InvalidToken as exc:
        raise ImproperlyConfigured("A stored value cannot be decrypted with the configured keys") from exc


def reencrypt(stored: str) -> str:
    """The same value under the newest key (MultiFernet.rotate)."""
    return PREFIX + fernet().rotate(stored[len(PREFIX):].encode("ascii")).decode("ascii")


class EncryptedTextField(models.TextField):
    """Text kept encrypted in the database; Python code sees plain text. Cannot be filtered on:
    search through a blind index instead."""

    description = "Text encrypted at rest"

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(str(value))


class EncryptedJSONField(models.TextField):
    """A JSON value (list or dict) kept encrypted in the database."""

    description = "JSON encrypted at rest"

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return self.get_default() if not self.null else None
        return json.loads(decrypt(value))

    def to_python(self, value):
        if isinstance(value, str):
            try:
                return json.loads(value)
            except json.JSONDecodeError:
                return value
        return value

    def get_prep_value(self, value):
        if value is None:
            return None
        return encrypt(json.dumps(value, ensure_ascii=False, sort_keys=True))

    def value_to_string(self, obj):
        return json.dumps(self.value_from_object(obj))


def encrypted_fields(model) -> list[models.Field]:
    return [f for f in model._meta.concrete_fields if isinstance(f, (EncryptedTextField, EncryptedJSONField))]


# Blind indexes ----------------------------------------------------------------------------------

def normalise_name(name: str) -> str:
    """Lower case, accents and punctuation removed, spaces collapsed: 'Zoë  O’Neill-Smith' →
    'zoe oneill smith'."""
    decomposed = unicodedata.normalize("NFKD", name or "")
    # Invisible format characters (zero-width space and joiner, soft hyphen, byte order mark)
    # pasted into a name must not split it, or a search would miss the person.
    letters = "".join(c for c in decomposed if not unicodedata.combining(c) and unicodedata.category(c) != "Cf")
    letters = re.sub(r"[’'`]", "", letters.lower())
    return " ".join(re.sub(r"[^a-z0-9]+", " ", letters).split())


def normalise_identifier(value: str) -> str:
    return re.sub(r"[^A-Z0-9]", "", (value or "").upper())


def blind_index(kind: str, value: str) -> str:
    """HMAC-SHA256 of `kind` and an already-normalised value: equal inputs give equal indexes, and
    the index reveals nothing without the key."""
    return hmac.new(blind_index_key(), f"{kind}\x1f{value}".encode("utf-8"), hashlib.sha256).hexdigest()


def name_dob_index(first_name: str, last_name: str, date_of_birth) -> str:
    """One index for a full name and date of birth (either order of names matches)."""
    names = sorted([normalise_name(first_name), normalise_name(last_name)])
    return blind_index("name-dob", f"{names[0]}|{names[1]}|{date_of_birth.isoformat() if date_of_birth else ''}")


def identifier_index(kind: str, value: str) -> str:
    return blind_index(f"id:{kind}", normalise_identifier(value))
