"""crossbook.toml: the journal and the venue accounts, each in mode sim | testnet | live.

    journal = "crossbook.db"            # relative to this file
    equivalents = ["USDT", "USDC", "USD"]  # quote currencies a quote may convert between (the default)

    [[accounts]]
    venue = "binance"
    account = "main"                    # the sub-account (one per strategy)
    mode = "sim"                        # sim | testnet | live
    ccxt_config = "sim-ccxt.json"       # sim: the file `crossbook sim --print-ccxt-config` wrote

    [[accounts]]                        # the same account's USD-M futures, through their own ccxt client
    venue = "binance"
    mode = "sim"
    ccxt_id = "binanceusdm"             # optional: the ccxt client (default: the venue's spot one)
    ccxt_entry = "binanceusdm"          # optional, sim: the entry of ccxt_config (default: ccxt_id)
    ccxt_config = "sim-ccxt.json"

    [[accounts]]
    venue = "okx"
    mode = "live"
    key = "vault:okx-main"              # a key of the vault (crossbook keys add okx), never the key itself

    [[accounts]]
    venue = "okx"
    account = "hedge"
    mode = "testnet"
    api_key_env = "OKX_API_KEY"         # or the environment (the key audit flags it)
    secret_env = "OKX_SECRET"
    password_env = "OKX_PASSPHRASE"
    fee_tier = "VIP 1"                  # optional, the venue's fee tier by name (crossbook fees)
    volume_30d_usd = 12000000           # optional, picks the tier by volume when fee_tier is absent
    pay_fees_with_token = false         # optional, fees paid with the venue's token (BNB, KCS, GT...)
    transfers = true                    # optional (default false): the key moves funds between accounts
    withdraws = true                    # optional (default false): crossbook withdraws with the key
                                        # (the key audit flags a transfer or withdraw right not needed)

    [chains.arbitrum]                   # optional, one table per EVM chain (crossbook.venues.dex.chains)
    rpc_url = "https://arb1.example/rpc"
    wallet = "vault:arb-wallet"         # a wallet of the vault (crossbook keys wallet), or wallet_key_env

    [endpoints.binance]                 # optional, per feed id: its URLs in place of the venue's
    ws = "ws://127.0.0.1:50123"         # (a running `crossbook sim --write-config FILE` writes them);
    rest = "http://127.0.0.1:50124"     # ws/http to a loopback host only, else wss/https

    [service]                           # optional, `crossbook serve` (its flags override these)
    listen = "127.0.0.1:8700"           # a loopback host only here; another host only by --listen
    token_file = "crossbook-token"      # the API's bearer token, created (mode 0600) on first start
    symbols = ["BTC-USDT"]              # the books the service keeps live
    shutdown = "finish"                 # finish | cancel: the routes in flight on SIGTERM / Ctrl-C
    finish_timeout = 30                 # seconds "finish" waits before cancelling what is left

    [strategies.momentum]               # optional, a strategy's own sub-account (crossbook.security.strategies)
    venue = "binance"
    account = "main"

    [bus]                               # optional: books from `crossbook feed` processes over NATS JetStream
    url = "nats://127.0.0.1:4222"       # several members comma separated; the accounts are traded under a lease
    name = "desk-1"                     # optional, this process on the bus (default host-pid)
    lease_seconds = 15                  # optional, an account's lease lapses this long after its last renewal

    [alerts]                            # optional, the service's in-process alerts (crossbook.monitor.alerts)
    connection_lost_for = 30            # AlertThresholds field names; durations and windows in seconds
    webhook = "http://127.0.0.1:9000/crossbook"  # optional: each transition POSTed as JSON

Secrets never sit in the file and never appear in an error: only the vault's key names and the
variable names do. A sim account may name a vault key too: its keys then replace the ccxt config's.
"""

from __future__ import annotations

import ipaddress
import os
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from dataclasses import field as dataclass_field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import orjson

from .errors import ConfigError, CrossbookError, VaultLocked
from .security.strategies import Strategies, parse_strategies
from .venues.dex.chains import ChainConfig, chains_config
from .venues.registry import VENUES

if TYPE_CHECKING:
    from .security.vault import Vault

MODES = ("sim", "testnet", "live")
DEFAULT_EQUIVALENTS: frozenset[str] = frozenset({"USDT", "USDC", "USD"})
VAULT_PREFIX = "vault:"
CREDENTIAL_FIELDS = ("apiKey", "secret", "password", "uid", "privateKey", "walletAddress")
CCXT_IDS = {v: v for v in VENUES}  # the spot client of each venue (binanceusdm etc. are products)
# the ccxt clients of a venue's other products, which an account entry may name as its ccxt_id
PRODUCT_CCXT_IDS: Mapping[str, tuple[str, ...]] = {
    "binance": ("binanceusdm", "binancecoinm"), "kraken": ("krakenfutures",), "kucoin": ("kucoinfutures",),
}


@dataclass(frozen=True)
class AccountConfig:
    venue: str
    account: str
    mode: str
    ccxt_config: Path | None = None
    api_key_env: str | None = None
    secret_env: str | None = None
    password_env: str | None = None
    fee_tier: str | None = None
    volume_30d_usd: float = 0.0
    pay_fees_with_token: bool = False
    ccxt_id: str | None = None  # None: the venue's spot client
    ccxt_entry: str | None = None  # sim: the entry of ccxt_config (None: the ccxt id)
    key_ref: str | None = None  # key = "vault:NAME": the vault key it trades with
    transfers: bool = False  # the key needs the transfer right (the key audit's "needs")
    withdraws: bool = False  # the key needs the withdrawal right

    @property
    def label(self) -> str:
        return f"{self.venue}/{self.account} ({self.mode})"

    @property
    def client_id(self) -> str:
        """The ccxt client the account trades through."""
        return self.ccxt_id or CCXT_IDS[self.venue]

    @property
    def primary(self) -> bool:
        """Whether this is the account's primary entry on its venue: the spot client, read
        without a separate entry of the ccxt config (balances and routing use it)."""
        return self.client_id == CCXT_IDS[self.venue] and self.ccxt_entry in (None, self.client_id)

    def ccxt_settings(self, vault: Vault | None = None) -> dict[str, Any]:
        """The ccxt constructor settings for this account; ``vault`` (unlocked) when it names a
        vault key. A sim account's come from its ccxt config file, its credentials replaced by the
        vault key's when it names one."""
        if self.mode != "sim":
            return self.credentials(vault)
        assert self.ccxt_config is not None
        try:
            configs = orjson.loads(self.ccxt_config.read_bytes())
        except (OSError, orjson.JSONDecodeError) as exc:
            raise ConfigError(f"{self.label}: cannot read {self.ccxt_config}: {exc}") from None
        entry = self.ccxt_entry or self.client_id
        if entry not in configs:
            raise ConfigError(f"{self.label}: {self.ccxt_config} has no entry for {entry!r}")
        settings = dict(configs[entry])
        if self.key_ref is None:
            return settings
        return {k: v for k, v in settings.items() if k not in CREDENTIAL_FIELDS} | self.credentials(vault)

    def credentials(self, vault: Vault | None = None) -> dict[str, Any]:
        """apiKey, secret (and password) from the vault key the account names (``vault`` must be
        unlocked) or from the environment variables it names."""
        if self.key_ref is not None:
            return self._vault_credentials(vault)
        settings: dict[str, Any] = {}
        for field, env in (("apiKey", self.api_key_env), ("secret", self.secret_env), ("password", self.password_env)):
            if env is None:
                continue
            value = os.environ.get(env)
            if not value:
                raise ConfigError(f"{self.label}: environment variable {env} is not set")
            settings[field] = value
        return settings

    def _vault_credentials(self, vault: Vault | None) -> dict[str, str]:
        if vault is None:
            raise VaultLocked(f"{self.label}: key = \"vault:{self.key_ref}\" needs the vault unlocked")
        assert self.key_ref is not None
        key = vault.key(self.key_ref)
        if (key.venue, key.account) != (self.venue, self.account):
            raise ConfigError(f"{self.label}: the vault key {key.name!r} belongs to {key.venue}/{key.account}, "
                              f"not {self.venue}/{self.account}")
        if key.state == "retired":
            raise ConfigError(f"{self.label}: the vault key {key.name!r} is retired; name its replacement")
        return key.ccxt_credentials()


SHUTDOWN_POLICIES = ("finish", "cancel")
DEFAULT_LISTEN = "127.0.0.1:8700"


@dataclass(frozen=True)
class ServiceConfig:
    """``[service]``: how `crossbook serve` runs; None where the file leaves it to the default."""

    listen: str | None = None  # host:port, a loopback host
    token_file: Path | None = None
    symbols: tuple[str, ...] | None = None
    shutdown: str = "finish"  # the routes in flight on stop: "finish" (within finish_timeout) or "cancel"
    finish_timeout: float = 30.0
    strict: bool = False  # refuse to start on a high-severity key audit finding


def parse_listen(text: str, where: str) -> tuple[str, int]:
    """``host:port`` (``[::1]:port`` for IPv6) as (host, port); port 0 lets the system pick."""
    host, colon, port = text.strip().rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if not colon or not host or not port.isdigit() or int(port) > 65535:
        raise ConfigError(f"{where} must be HOST:PORT such as {DEFAULT_LISTEN}, got {text!r}")
    return host, int(port)


def is_loopback(host: str) -> bool:
    return _loopback(host)


def service_config(table: Any, base: Path, where: str) -> ServiceConfig:
    """The ``[service]`` table, each setting checked; paths relative to the config's folder."""
    where = f"{where}: service"
    if not isinstance(table, dict):
        raise ConfigError(f"{where} must be a table [service]")
    unknown = set(table) - {"listen", "token_file", "symbols", "shutdown", "finish_timeout", "strict"}
    if unknown:
        raise ConfigError(f"{where}: unknown setting(s) {', '.join(sorted(unknown))}")
    settings: dict[str, Any] = {}
    if "listen" in table:
        settings["listen"] = _service_listen(table["listen"], f"{where}.listen")
    if "token_file" in table:
        if not isinstance(table["token_file"], str) or not table["token_file"].strip():
            raise ConfigError(f"{where}.token_file must be a file path, got {table['token_file']!r}")
        settings["token_file"] = base / table["token_file"]
    if "symbols" in table:
        settings["symbols"] = service_symbols(table["symbols"], f"{where}.symbols")
    if "shutdown" in table:
        if table["shutdown"] not in SHUTDOWN_POLICIES:
            raise ConfigError(f"{where}.shutdown must be one of {', '.join(SHUTDOWN_POLICIES)}, got {table['shutdown']!r}")
        settings["shutdown"] = table["shutdown"]
    if "finish_timeout" in table:
        settings["finish_timeout"] = finish_timeout(table["finish_timeout"], f"{where}.finish_timeout")
    if "strict" in table:
        if not isinstance(table["strict"], bool):
            raise ConfigError(f"{where}.strict must be true or false, got {table['strict']!r}")
        settings["strict"] = table["strict"]
    return ServiceConfig(**settings)


def _service_listen(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise ConfigError(f"{where} must be HOST:PORT such as {DEFAULT_LISTEN}, got {value!r}")
    host, _ = parse_listen(value, where)
    if not _loopback(host):
        raise ConfigError(f"{where}: {host!r} is not a loopback host; a service open to the network is only "
                          f"started by naming the host on the command line (crossbook serve --listen {value})")
    return value.strip()


def service_symbols(value: Any, where: str) -> tuple[str, ...]:
    """Standard symbols (BTC-USDT, ...), at least one, each once, upper-cased."""
    from .symbols import parse_standard

    if isinstance(value, str):
        value = [s for s in value.split(",") if s.strip()]
    if not isinstance(value, list) or not value or not all(isinstance(s, str) for s in value):
        raise ConfigError(f"{where} must be a list of standard symbols such as [\"BTC-USDT\"], got {value!r}")
    symbols = tuple(dict.fromkeys(s.strip().upper() for s in value))
    for symbol in symbols:
        try:
            parse_standard(symbol)
        except CrossbookError as exc:
            raise ConfigError(f"{where}: {exc}") from None
    return symbols


def finish_timeout(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < float("inf"):
        raise ConfigError(f"{where} must be a positive number of seconds, got {value!r}")
    return float(value)


@dataclass(frozen=True)
class BusConfig:
    """``[bus]``: the desk's books come from feed processes over NATS JetStream (crossbook.bus)
    instead of feeds run in this process; its accounts are traded under a lease there."""

    url: str  # nats://HOST:PORT, or several comma separated (a cluster's members)
    name: str = ""  # this process on the bus ("" = host-pid)
    lease_seconds: float = 15.0  # an account's trading lease lapses this long after its last renewal


def bus_config(table: Any, where: str) -> BusConfig | None:
    """The ``[bus]`` table, each setting checked; None when the file has none."""
    from .bus.connect import bus_urls

    if table is None:
        return None
    where = f"{where}: bus"
    if not isinstance(table, dict):
        raise ConfigError(f"{where} must be a table [bus] with url = \"nats://HOST:PORT\"")
    unknown = set(table) - {"url", "name", "lease_seconds"}
    if unknown:
        raise ConfigError(f"{where}: unknown setting(s) {', '.join(sorted(unknown))}")
    url = table.get("url")
    if not isinstance(url, str):
        raise ConfigError(f"{where}.url must be nats://HOST:PORT, got {url!r}")
    bus_urls(url)
    name = table.get("name", "")
    if not isinstance(name, str):
        raise ConfigError(f"{where}.name must be a string, got {name!r}")
    lease = table.get("lease_seconds", 15.0)
    if isinstance(lease, bool) or not isinstance(lease, (int, float)) or not 1 <= lease <= 3600:
        raise ConfigError(f"{where}.lease_seconds must be a number of seconds from 1 to 3600, got {lease!r}")
    return BusConfig(url.strip(), name, float(lease))


@dataclass(frozen=True)
class Config:
    path: Path
    journal: Path
    accounts: list[AccountConfig]
    equivalents: frozenset[str] = DEFAULT_EQUIVALENTS
    chains: Mapping[str, ChainConfig] = dataclass_field(default_factory=dict)
    # feed id -> (ws url, rest url) in place of the venue's own (a running `crossbook sim`)
    endpoints: Mapping[str, tuple[str, str]] = dataclass_field(default_factory=dict)
    service: ServiceConfig = dataclass_field(default_factory=ServiceConfig)
    # [alerts] as written: the service checks it (AlertThresholds.from_mapping; config may not import monitor)
    alerts: Mapping[str, Any] = dataclass_field(default_factory=dict)
    strategies: Strategies = dataclass_field(default_factory=Strategies)  # [strategies] (crossbook.security.strategies)
    bus: BusConfig | None = None  # [bus]: books from feed processes over NATS, accounts under leases

    @property
    def needs_vault(self) -> bool:
        """Whether an account or a chain names a vault key (the vault is unlocked only then)."""
        return any(a.key_ref for a in self.accounts) or any(c.wallet_ref for c in self.chains.values())

    def chain(self, name: str, vault: Vault | None = None) -> ChainConfig:
        """The ``[chains.<name>]`` configuration, its wallet key taken from ``vault`` when it names one."""
        if name not in self.chains:
            raise ConfigError(f"{self.path}: no [chains.{name}]; configured: {', '.join(self.chains) or 'none'}")
        chain = self.chains[name]
        if chain.wallet_ref is None:
            return chain
        if vault is None:
            raise VaultLocked(f"{self.path}: [chains.{name}] wallet = \"vault:{chain.wallet_ref}\" needs the vault unlocked")
        wallet = vault.wallet(chain.wallet_ref)
        if wallet.chain != name:
            raise ConfigError(f"{self.path}: [chains.{name}]: the vault wallet {wallet.name!r} is for {wallet.chain}, not {name}")
        return replace(chain, wallet_key=wallet.private_key)


def load_config(path: str | Path) -> Config:
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text())
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    base = path.parent
    accounts = [_account(entry, base, path, i) for i, entry in enumerate(data.get("accounts", []), start=1)]
    if not accounts:
        raise ConfigError(f"{path}: no [[accounts]]")
    return Config(path, base / str(data.get("journal", "crossbook.db")), accounts, _equivalents(data, path),
                  chains_config(data.get("chains", {}), str(path)), _endpoints(data.get("endpoints", {}), path),
                  service=service_config(data.get("service", {}), base, str(path)), alerts=_alerts(data.get("alerts", {}), path),
                  strategies=parse_strategies(data.get("strategies", {}), {(a.venue, a.account) for a in accounts}, str(path)),
                  bus=bus_config(data.get("bus"), str(path)))


def _alerts(table: Any, path: Path) -> Mapping[str, Any]:
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: alerts must be a table [alerts] of thresholds (and webhook = \"http://...\")")
    return dict(table)


def _endpoints(table: Any, path: Path) -> dict[str, tuple[str, str]]:
    """``[endpoints.<feed id>]`` tables of ``ws`` and ``rest`` URLs: wss/https anywhere, plain
    ws/http on a loopback host only (a simulator on this machine)."""
    from .venues.registry import all_feeds

    if not isinstance(table, dict):
        raise ConfigError(f"{path}: endpoints must be tables [endpoints.<feed id>] with ws and rest URLs")
    feeds = all_feeds() if table else {}
    out: dict[str, tuple[str, str]] = {}
    for feed, urls in table.items():
        where = f"{path}: endpoints.{feed}"
        if feed not in feeds:
            raise ConfigError(f"{where}: unknown feed {feed!r}; known: {', '.join(feeds)}")
        if not isinstance(urls, dict) or set(urls) != {"ws", "rest"}:
            raise ConfigError(f"{where} needs exactly ws = \"wss://...\" and rest = \"https://...\"")
        out[feed] = (_endpoint_url(urls["ws"], ("wss", "ws"), f"{where}.ws"),
                     _endpoint_url(urls["rest"], ("https", "http"), f"{where}.rest"))
    return out


def _endpoint_url(url: Any, schemes: tuple[str, str], where: str) -> str:
    """``url`` if it is secure (``schemes[0]``), or plain (``schemes[1]``) to a loopback host."""
    secure, plain = schemes
    parts = urlsplit(url) if isinstance(url, str) else None
    if parts is None or parts.scheme not in schemes or not parts.hostname:
        raise ConfigError(f"{where} must be a {secure}:// URL (or {plain}:// to 127.0.0.1), got {url!r}")
    if parts.scheme == plain and not _loopback(parts.hostname):
        raise ConfigError(f"{where}: {plain}:// is unencrypted and allowed to a loopback host only, not {parts.hostname!r}; "
                          f"use {secure}://")
    return str(url)


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class SimClientEntry:
    """A sim account entry trading a venue's other products through its own ccxt client:
    ``ccxt_id`` the client, ``entry`` its settings' key in the ccxt config file."""

    venue: str
    ccxt_id: str
    entry: str


def sim_config_text(journal: str, ccxt_config: str, venues: list[str], endpoints: Mapping[str, tuple[str, str]],
                    products: Sequence[SimClientEntry] = ()) -> str:
    """A crossbook.toml for running simulators: the journal, one sim account per trading venue
    and one per derivatives client (``products``; their ccxt settings, keys included, in the JSON
    file ``ccxt_config`` beside it) and every feed's endpoints."""
    def quoted(text: str) -> str:
        return orjson.dumps(text).decode()

    lines = ["# the simulated venues of a running `crossbook sim` (their keys are in the ccxt config file)",
             f"journal = {quoted(journal)}", ""]
    for venue in venues:
        lines += ["[[accounts]]", f"venue = {quoted(venue)}", 'account = "main"', 'mode = "sim"',
                  f"ccxt_config = {quoted(ccxt_config)}", ""]
    for client in products:
        lines += ["[[accounts]]", f"venue = {quoted(client.venue)}", 'account = "main"', 'mode = "sim"',
                  f"ccxt_id = {quoted(client.ccxt_id)}", f"ccxt_entry = {quoted(client.entry)}",
                  f"ccxt_config = {quoted(ccxt_config)}", ""]
    for feed, (ws, rest) in endpoints.items():
        lines += [f"[endpoints.{feed}]", f"ws = {quoted(ws)}", f"rest = {quoted(rest)}", ""]
    return "\n".join(lines)


def _equivalents(data: dict[str, Any], path: Path) -> frozenset[str]:
    codes = data.get("equivalents", sorted(DEFAULT_EQUIVALENTS))
    if not isinstance(codes, list) or not all(isinstance(c, str) and c.isalnum() for c in codes):
        raise ConfigError(f"{path}: equivalents must be a list of currency codes such as [\"USDT\", \"USDC\"], got {codes!r}")
    return frozenset(c.upper() for c in codes)


def _account(entry: dict[str, Any], base: Path, path: Path, n: int) -> AccountConfig:
    where = f"{path}: account #{n}"
    venue = entry.get("venue")
    if venue not in VENUES:
        raise ConfigError(f"{where}: venue must be one of {', '.join(VENUES)}, got {venue!r}")
    mode = entry.get("mode", "sim")
    if mode not in MODES:
        raise ConfigError(f"{where}: mode must be one of {', '.join(MODES)}, got {mode!r}")
    unknown = set(entry) - {"venue", "account", "mode", "ccxt_config", "key", "api_key_env", "secret_env", "password_env",
                            "fee_tier", "volume_30d_usd", "pay_fees_with_token", "ccxt_id", "ccxt_entry",
                            "transfers", "withdraws"}
    if unknown:
        raise ConfigError(f"{where}: unknown setting(s) {', '.join(sorted(unknown))}")
    ccxt_config = base / entry["ccxt_config"] if "ccxt_config" in entry else None
    if mode == "sim" and ccxt_config is None:
        raise ConfigError(f"{where}: a sim account needs ccxt_config (the output of crossbook sim --print-ccxt-config)")
    key_ref = _key_ref(entry, where)
    if mode != "sim" and key_ref is None and not (entry.get("api_key_env") and entry.get("secret_env")):
        raise ConfigError(f"{where}: a {mode} account needs key = \"vault:NAME\" (crossbook keys add {venue}), "
                          f"or api_key_env and secret_env")
    return AccountConfig(
        venue=venue,
        account=str(entry.get("account", "main")),
        mode=mode,
        ccxt_config=ccxt_config,
        api_key_env=entry.get("api_key_env"),
        secret_env=entry.get("secret_env"),
        password_env=entry.get("password_env"),
        key_ref=key_ref,
        **_client_settings(entry, venue, mode, where),
        **_fee_settings(entry, where),
        **_right_settings(entry, where),
    )


def _right_settings(entry: dict[str, Any], where: str) -> dict[str, Any]:
    """``transfers`` / ``withdraws``: the rights beyond read and trade the account's key needs."""
    settings: dict[str, Any] = {}
    for name in ("transfers", "withdraws"):
        if name in entry:
            if not isinstance(entry[name], bool):
                raise ConfigError(f"{where}: {name} must be true or false, got {entry[name]!r}")
            settings[name] = entry[name]
    return settings


def _key_ref(entry: dict[str, Any], where: str) -> str | None:
    """The vault key ``key = "vault:NAME"`` names; a key given both ways is refused."""
    if "key" not in entry:
        return None
    ref = entry["key"]
    if not isinstance(ref, str) or not ref.startswith(VAULT_PREFIX) or not ref.removeprefix(VAULT_PREFIX).strip():
        raise ConfigError(f"{where}: key must name a vault key as \"vault:NAME\" (the key itself never goes in the file)")
    given = [name for name in ("api_key_env", "secret_env", "password_env") if name in entry]
    if given:
        raise ConfigError(f"{where}: give key = \"vault:...\" or {', '.join(given)}, not both")
    return ref.removeprefix(VAULT_PREFIX).strip()


def _client_settings(entry: dict[str, Any], venue: str, mode: str, where: str) -> dict[str, Any]:
    """``ccxt_id``: the venue's spot client or one of its products' (binanceusdm); ``ccxt_entry``
    (sim only): a key of the ccxt config file."""
    settings: dict[str, Any] = {}
    if "ccxt_id" in entry:
        known = (CCXT_IDS[venue], *PRODUCT_CCXT_IDS.get(venue, ()))
        if entry["ccxt_id"] not in known:
            raise ConfigError(f"{where}: ccxt_id for {venue} must be one of {', '.join(known)}, got {entry['ccxt_id']!r}")
        settings["ccxt_id"] = entry["ccxt_id"]
    if "ccxt_entry" in entry:
        if mode != "sim":
            raise ConfigError(f"{where}: ccxt_entry names an entry of a sim account's ccxt_config; this account is {mode}")
        if not isinstance(entry["ccxt_entry"], str) or not entry["ccxt_entry"]:
            raise ConfigError(f"{where}: ccxt_entry must be the name of an entry of ccxt_config, got {entry['ccxt_entry']!r}")
        settings["ccxt_entry"] = entry["ccxt_entry"]
    return settings


def _fee_settings(entry: dict[str, Any], where: str) -> dict[str, Any]:
    settings: dict[str, Any] = {}
    if "fee_tier" in entry:
        if not isinstance(entry["fee_tier"], str) or not entry["fee_tier"].strip():
            raise ConfigError(f"{where}: fee_tier must be a tier name, got {entry['fee_tier']!r}")
        settings["fee_tier"] = entry["fee_tier"]
    if "volume_30d_usd" in entry:
        volume = entry["volume_30d_usd"]
        if isinstance(volume, bool) or not isinstance(volume, (int, float)) or not 0 <= volume < float("inf"):
            raise ConfigError(f"{where}: volume_30d_usd must be a number of USD >= 0, got {volume!r}")
        settings["volume_30d_usd"] = float(volume)
    if "pay_fees_with_token" in entry:
        if not isinstance(entry["pay_fees_with_token"], bool):
            raise ConfigError(f"{where}: pay_fees_with_token must be true or false, got {entry['pay_fees_with_token']!r}")
        settings["pay_fees_with_token"] = entry["pay_fees_with_token"]
    return settings
