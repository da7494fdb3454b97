"""The key vault: every API key, wallet key, withdrawal whitelist entry and the TOTP secret of a
desk, in one file encrypted with AES-256-GCM under a key derived from a passphrase with scrypt.

The file is one line of JSON, the header (format version, the KDF and its parameters, the salt,
the nonce and a check value of the derived key), then the ciphertext of the JSON payload. The
header's bytes are the cipher's associated data, so a changed parameter fails like a changed
ciphertext byte. The check value tells a wrong passphrase (``VaultLocked``) from a damaged file
(``VaultCorrupt``); either way nothing is read. Writes are atomic (a temporary file beside the
vault, fsync, rename, fsync of the folder): a crash mid-write leaves the old vault whole.

No exception message and no repr carries the passphrase, the derived key or a stored secret.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import getpass
import hashlib
import hmac
import os
import stat
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import orjson
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from ..errors import UnknownKey, VaultCorrupt, VaultError, VaultLocked, VaultPermissions
from .permissions import KeyPermissions
from .redact import install

FORMAT = "crossbook-vault"
VERSION = 1
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1  # about 0.1 s and 32 MiB per unlock
MAX_SCRYPT_N, MAX_SCRYPT_RP = 2**20, 32  # a header asking for more is refused, not obeyed
PASSPHRASE_ENV = "CROSSBOOK_VAULT_PASSPHRASE"
PATH_ENV = "CROSSBOOK_VAULT"
KEYRING_SERVICE = "crossbook-vault"
_CHECK_LABEL = b"crossbook vault passphrase check"
KeyState = Literal["active", "rotating", "retired"]
KEY_STATES: tuple[KeyState, ...] = ("active", "rotating", "retired")


# ---- the records -------------------------------------------------------------------------------


@dataclass(frozen=True)
class StoredKey:
    """One venue API key. ``to_json()`` is what ``keys list --json`` prints: never a secret."""

    name: str
    venue: str
    account: str
    api_key: str = field(repr=False)
    secret: str = field(repr=False)
    password: str | None = field(repr=False)
    created: float
    verified: float | None = None
    permissions: KeyPermissions | None = None
    state: KeyState = "active"
    replaces: str | None = None  # the key this one rotates in for
    strategy: str | None = None

    def secret_values(self) -> set[str]:
        return {v for v in (self.api_key, self.secret, self.password) if v}

    def ccxt_credentials(self) -> dict[str, str]:
        """apiKey, secret and (where the venue has one) password, as ccxt takes them."""
        credentials = {"apiKey": self.api_key, "secret": self.secret}
        if self.password:
            credentials["password"] = self.password
        return credentials

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "venue": self.venue, "account": self.account, "created": self.created,
                "verified": self.verified, "permissions": self.permissions.to_json() if self.permissions else None,
                "state": self.state, "replaces": self.replaces, "strategy": self.strategy}

    def _record(self) -> dict[str, Any]:
        return self.to_json() | {"api_key": self.api_key, "secret": self.secret, "password": self.password}

    @classmethod
    def _from_record(cls, record: dict[str, Any]) -> StoredKey:
        permissions = record.get("permissions")
        state = record.get("state", "active")
        if state not in KEY_STATES:
            raise ValueError(f"state {state!r}")
        return cls(_text(record, "name"), _text(record, "venue"), _text(record, "account"), _text(record, "api_key"),
                   _text(record, "secret"), _optional_text(record, "password"), _number(record, "created"),
                   _optional_number(record, "verified"),
                   KeyPermissions.from_json(permissions) if permissions is not None else None, state,
                   _optional_text(record, "replaces"), _optional_text(record, "strategy"))


@dataclass(frozen=True)
class StoredWallet:
    """A DEX chain wallet's private key, named by ``wallet = "vault:NAME"`` in ``[chains.X]``."""

    name: str
    chain: str
    private_key: str = field(repr=False)
    created: float

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "chain": self.chain, "created": self.created}

    def _record(self) -> dict[str, Any]:
        return self.to_json() | {"private_key": self.private_key}

    @classmethod
    def _from_record(cls, record: dict[str, Any]) -> StoredWallet:
        return cls(_text(record, "name"), _text(record, "chain"), _text(record, "private_key"), _number(record, "created"))


@dataclass(frozen=True)
class WhitelistEntry:
    """An address crossbook may withdraw ``asset`` to (addresses are not secret)."""

    name: str
    asset: str
    address: str
    network: str
    memo: str | None
    created: float

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "asset": self.asset, "address": self.address, "network": self.network,
                "memo": self.memo, "created": self.created}

    @classmethod
    def _from_record(cls, record: dict[str, Any]) -> WhitelistEntry:
        return cls(_text(record, "name"), _text(record, "asset"), _text(record, "address"), _text(record, "network"),
                   _optional_text(record, "memo"), _number(record, "created"))


@dataclass(frozen=True)
class TotpState:
    """The second factor: the TOTP secret, when it was enrolled, the last time-step counter
    accepted (a code is accepted once) and the times of recent wrong codes (rate limiting)."""

    secret: str = field(repr=False)
    enrolled: float
    last_counter: int
    failures: list[float] = field(default_factory=list)

    def _record(self) -> dict[str, Any]:
        return {"secret": self.secret, "enrolled": self.enrolled, "last_counter": self.last_counter,
                "failures": list(self.failures)}

    @classmethod
    def _from_record(cls, record: dict[str, Any]) -> TotpState:
        failures = record.get("failures", [])
        if not isinstance(failures, list) or not all(isinstance(f, (int, float)) for f in failures):
            raise ValueError("failures")
        counter = record.get("last_counter")
        if not isinstance(counter, int):
            raise ValueError("last_counter")
        return cls(_text(record, "secret"), _number(record, "enrolled"), counter, [float(f) for f in failures])


def _text(record: dict[str, Any], name: str) -> str:
    value = record.get(name)
    if not isinstance(value, str):
        raise ValueError(name)
    return value


def _optional_text(record: dict[str, Any], name: str) -> str | None:
    return None if record.get(name) is None else _text(record, name)


def _number(record: dict[str, Any], name: str) -> float:
    value = record.get(name)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(name)
    return float(value)


def _optional_number(record: dict[str, Any], name: str) -> float | None:
    return None if record.get(name) is None else _number(record, name)


# ---- the file ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Header:
    n: int
    r: int
    p: int
    salt: bytes
    nonce: bytes
    check: bytes

    def to_bytes(self) -> bytes:
        return orjson.dumps({"format": FORMAT, "version": VERSION, "cipher": "aes-256-gcm",
                             "kdf": {"name": "scrypt", "n": self.n, "r": self.r, "p": self.p, "salt": _b64(self.salt)},
                             "nonce": _b64(self.nonce), "check": _b64(self.check)})

    @classmethod
    def parse(cls, data: bytes, path: Path) -> _Header:
        try:
            header = orjson.loads(data)
            if not isinstance(header, dict) or header.get("format") != FORMAT:
                raise ValueError("format")
        except (orjson.JSONDecodeError, ValueError):
            raise VaultCorrupt(f"{path} is not a crossbook vault (or its header is damaged): nothing was read") from None
        if header.get("version") != VERSION:
            raise VaultError(f"{path}: vault format version {header.get('version')!r} is not one this crossbook reads "
                             f"(it reads version {VERSION}); nothing was read")
        try:
            kdf = header["kdf"]
            if header["cipher"] != "aes-256-gcm" or kdf["name"] != "scrypt":
                raise ValueError("cipher")
            parsed = cls(kdf["n"], kdf["r"], kdf["p"], _unb64(kdf["salt"]), _unb64(header["nonce"]), _unb64(header["check"]))
        except (KeyError, TypeError, ValueError, binascii.Error):
            raise VaultCorrupt(f"{path}: the vault header is damaged: nothing was read") from None
        if not parsed.sane():
            raise VaultCorrupt(f"{path}: the vault header's scrypt parameters are out of range: nothing was read")
        return parsed

    def sane(self) -> bool:
        ints = all(isinstance(v, int) and not isinstance(v, bool) for v in (self.n, self.r, self.p))
        return (ints and 2 <= self.n <= MAX_SCRYPT_N and self.n & (self.n - 1) == 0 and 1 <= self.r <= MAX_SCRYPT_RP
                and 1 <= self.p <= MAX_SCRYPT_RP and len(self.salt) >= 16 and len(self.nonce) == 12 and len(self.check) == 16)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _unb64(text: Any) -> bytes:
    if not isinstance(text, str):
        raise ValueError("not base64 text")
    return base64.b64decode(text, validate=True)


def _derive(passphrase: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(passphrase.encode())


def _check_value(key: bytes) -> bytes:
    return hmac.new(key, _CHECK_LABEL, hashlib.sha256).digest()[:16]


def check_permissions(path: Path) -> None:
    """Refuse a vault file the group or others may read or write."""
    if os.name != "posix":
        return
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise VaultPermissions(f"{path} is open to its group or others (mode {mode:04o}); a vault must be readable by "
                               f"its owner only: run chmod 600 {path}")


def _write_atomically(path: Path, data: bytes) -> None:
    """``data`` to ``path`` through a temporary file in the same folder (mode 0600), fsynced, renamed
    over ``path``, then the folder fsynced so the rename itself survives a crash."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as file:
            os.fchmod(file.fileno(), 0o600)
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


# ---- the vault ---------------------------------------------------------------------------------


class Vault:
    """An unlocked vault: its records in memory, the derived key to write them back with ``save()``.
    Make one with ``Vault.create``, ``Vault.open`` or ``unlock()``."""

    def __init__(self, path: Path, key: bytes, salt: bytes, kdf: tuple[int, int, int]) -> None:
        self.path = path
        self._key = key
        self._salt = salt
        self._kdf = kdf
        self.keys: dict[str, StoredKey] = {}
        self.wallets: dict[str, StoredWallet] = {}
        self.whitelist: dict[str, WhitelistEntry] = {}
        self.totp: TotpState | None = None

    def __repr__(self) -> str:
        return f"Vault(path={str(self.path)!r}, keys={sorted(self.keys)!r}, wallets={sorted(self.wallets)!r})"

    @classmethod
    def create(cls, path: str | Path, passphrase: str) -> Vault:
        """A new, empty vault at ``path`` (its folder made, owner-only, when missing); refused when a
        file is there already or the passphrase is empty."""
        path = Path(path)
        if not passphrase:
            raise VaultLocked(f"{path}: a vault needs a non-empty passphrase")
        if path.exists():
            raise VaultError(f"{path} exists already: open it, or name another file (--vault FILE or ${PATH_ENV})")
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        salt = os.urandom(16)
        vault = cls(path, _derive(passphrase, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P), salt, (SCRYPT_N, SCRYPT_R, SCRYPT_P))
        vault.save()
        return vault

    @classmethod
    def open(cls, path: str | Path, passphrase: str) -> Vault:
        """The vault at ``path`` decrypted: VaultPermissions when others may read it, VaultLocked on
        a wrong passphrase, VaultCorrupt on a damaged or tampered file; nothing read on any of them."""
        path = Path(path)
        try:
            check_permissions(path)
            data = path.read_bytes()
        except FileNotFoundError:
            raise _missing(path) from None
        except OSError as exc:
            raise VaultError(f"cannot read the vault {path}: {exc.strerror}") from None
        header_bytes, newline, ciphertext = data.partition(b"\n")
        if not newline:
            raise VaultCorrupt(f"{path} is not a crossbook vault (no header line): nothing was read")
        header = _Header.parse(header_bytes, path)
        key = _derive(passphrase, header.salt, header.n, header.r, header.p)
        if not hmac.compare_digest(_check_value(key), header.check):
            raise VaultLocked(f"wrong passphrase for the vault {path} (or its header was altered): nothing was read")
        try:
            plaintext = AESGCM(key).decrypt(header.nonce, ciphertext, header_bytes)
        except InvalidTag:
            raise VaultCorrupt(f"{path} fails its integrity check (tampered with or damaged): nothing was read") from None
        vault = cls(path, key, header.salt, (header.n, header.r, header.p))
        vault._load(plaintext)
        install(vault.secrets())  # from now on no log record of this process shows one
        return vault

    def _load(self, plaintext: bytes) -> None:
        try:
            payload = orjson.loads(plaintext)
            self.keys = {k["name"]: StoredKey._from_record(k) for k in payload["keys"]}
            self.wallets = {w["name"]: StoredWallet._from_record(w) for w in payload["wallets"]}
            self.whitelist = {e["name"]: WhitelistEntry._from_record(e) for e in payload["whitelist"]}
            self.totp = TotpState._from_record(payload["totp"]) if payload.get("totp") is not None else None
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            # the exception's text may quote a value: only its type goes into the message
            raise VaultCorrupt(f"{self.path}: the vault's contents do not have the expected shape "
                               f"({type(exc).__name__}): nothing was read") from None

    def save(self) -> None:
        """Encrypt the records under a fresh nonce and replace the file atomically (mode 0600)."""
        install(self.secrets())  # the records added since the vault was opened are masked in logs too
        nonce = os.urandom(12)
        n, r, p = self._kdf
        header = _Header(n, r, p, self._salt, nonce, _check_value(self._key)).to_bytes()
        payload = orjson.dumps({"keys": [k._record() for k in self.keys.values()],
                                "wallets": [w._record() for w in self.wallets.values()],
                                "whitelist": [e.to_json() for e in self.whitelist.values()],
                                "totp": self.totp._record() if self.totp is not None else None})
        _write_atomically(self.path, header + b"\n" + AESGCM(self._key).encrypt(nonce, payload, header))

    # ---- records ---------------------------------------------------------------------------

    def key(self, name: str) -> StoredKey:
        if name not in self.keys:
            raise UnknownKey(f"the vault {self.path} holds no key {name!r}; it holds: {', '.join(sorted(self.keys)) or 'none'}")
        return self.keys[name]

    def put_key(self, key: StoredKey) -> None:
        self.keys[key.name] = key

    def remove_key(self, name: str) -> StoredKey:
        return self.keys.pop(self.key(name).name)

    def wallet(self, name: str) -> StoredWallet:
        if name not in self.wallets:
            raise UnknownKey(f"the vault {self.path} holds no wallet {name!r}; it holds: "
                             f"{', '.join(sorted(self.wallets)) or 'none'}")
        return self.wallets[name]

    def put_wallet(self, wallet: StoredWallet) -> None:
        self.wallets[wallet.name] = wallet

    def remove_wallet(self, name: str) -> StoredWallet:
        return self.wallets.pop(self.wallet(name).name)

    def put_whitelist(self, entry: WhitelistEntry) -> None:
        self.whitelist[entry.name] = entry

    def remove_whitelist(self, name: str) -> WhitelistEntry:
        if name not in self.whitelist:
            raise UnknownKey(f"the withdrawal whitelist holds no entry {name!r}; it holds: "
                             f"{', '.join(sorted(self.whitelist)) or 'none'}")
        return self.whitelist.pop(name)

    def set_totp(self, state: TotpState | None) -> None:
        self.totp = state

    def secrets(self) -> set[str]:
        """Every secret value the vault holds: what a redaction filter masks and a scan looks for."""
        values: set[str] = set()
        for key in self.keys.values():
            values |= key.secret_values()
        values |= {w.private_key for w in self.wallets.values() if w.private_key}
        if self.totp is not None and self.totp.secret:
            values.add(self.totp.secret)
        return values


# ---- finding and unlocking it ------------------------------------------------------------------


def _missing(path: Path) -> VaultError:
    return VaultError(f"no vault at {path}: add a key with `crossbook keys add VENUE` to create one, or name "
                      f"another file (--vault FILE or ${PATH_ENV})")


def default_vault_path() -> Path:
    """``$XDG_CONFIG_HOME/crossbook/vault`` (``~/.config/crossbook/vault`` without it)."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "crossbook" / "vault"


def vault_path(path: str | Path | None = None) -> Path:
    """``path`` (``--vault``), else ``$CROSSBOOK_VAULT``, else the default."""
    if path is not None:
        return Path(path)
    return Path(os.environ[PATH_ENV]) if os.environ.get(PATH_ENV) else default_vault_path()


def passphrase(path: Path, *, confirm: bool = False) -> str:
    """The vault's passphrase: ``$CROSSBOOK_VAULT_PASSPHRASE``, else the OS keyring (when the
    ``keyring`` package is installed and holds one), else a prompt without echo when stdin is a
    terminal (twice with ``confirm``, for a new vault), else VaultLocked naming the variable."""
    if os.environ.get(PASSPHRASE_ENV):
        return os.environ[PASSPHRASE_ENV]
    stored = _keyring_passphrase(path)
    if stored:
        return stored
    if not sys.stdin.isatty():
        raise VaultLocked(f"the vault {path} is locked: set {PASSPHRASE_ENV}, store the passphrase in the OS keyring "
                          f"(service {KEYRING_SERVICE!r}), or run in a terminal to be asked")
    entered = getpass.getpass(f"passphrase for the vault {path}: ")
    if confirm and getpass.getpass("the same passphrase again: ") != entered:
        raise VaultLocked(f"the two passphrases for the new vault {path} differ: nothing was written")
    if not entered:
        raise VaultLocked(f"no passphrase given for the vault {path}")
    return entered


def _keyring_passphrase(path: Path) -> str | None:
    try:
        import keyring  # type: ignore[import-not-found]
        import keyring.errors  # type: ignore[import-not-found]
    except ImportError:
        return None
    try:
        value = keyring.get_password(KEYRING_SERVICE, str(path.resolve()))
    except keyring.errors.KeyringError:
        return None
    return value if isinstance(value, str) else None


def unlock(path: str | Path | None = None) -> Vault:
    """The vault at ``path`` (``--vault``), ``$CROSSBOOK_VAULT`` or the default, opened with the
    passphrase from ``$CROSSBOOK_VAULT_PASSPHRASE``, the keyring or a prompt."""
    where = vault_path(path)
    if not where.exists():
        raise _missing(where)
    return Vault.open(where, passphrase(where))


def unlock_or_create(path: str | Path | None = None) -> Vault:
    """``unlock``, or a new vault there when there is none yet (the passphrase asked twice)."""
    where = vault_path(path)
    if where.exists():
        return Vault.open(where, passphrase(where))
    return Vault.create(where, passphrase(where, confirm=True))


@contextlib.contextmanager
def editing(path: str | Path | None = None, *, create: bool = False) -> Iterator[Vault]:
    """The vault unlocked for a change, saved when the block ends without an error."""
    vault = unlock_or_create(path) if create else unlock(path)
    yield vault
    vault.save()
