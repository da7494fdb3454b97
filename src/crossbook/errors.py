"""One error hierarchy for crossbook."""


class CrossbookError(Exception):
    """Base of every error crossbook raises on purpose."""


class ConfigError(CrossbookError):
    """Configuration or a command-line argument names something that does not exist."""


class UnknownVenue(ConfigError):
    pass


class UnknownSymbol(ConfigError):
    pass


class BookOutOfSync(CrossbookError):
    """A book lost continuity (sequence gap or checksum mismatch) and must be resynced."""


class VenueUnavailable(CrossbookError):
    """A venue cannot be reached; ``client_order_id`` names the order whose fate is unknown, if any."""

    def __init__(self, message: str, client_order_id: str | None = None) -> None:
        super().__init__(message)
        self.client_order_id = client_order_id


class VenueRefused(CrossbookError):
    """The venue refused a request for a reason other than the order's content (credentials,
    permissions): the message names the venue and what it said."""


class CaptureFormatError(CrossbookError):
    """A capture file line does not have the documented shape."""


class InvalidOrder(CrossbookError):
    """An order request that must not be sent: the message names the field and the rule."""


class UnsupportedFeature(InvalidOrder):
    """The venue cannot do what the order asks for (names the venue and the feature)."""


class InsufficientFunds(InvalidOrder):
    pass


class RateLimited(CrossbookError):
    """A venue refused a request for its rate limit; ``retry_after`` seconds, if it said."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class NoConversionRate(CrossbookError):
    """A price cannot be expressed in another quote currency: the two are not declared
    equivalent, or no live book gives the rate (the message names both currencies)."""


class VaultError(CrossbookError):
    """The key vault cannot be used: the message names the file and what to do (never a secret)."""


class VaultLocked(VaultError):
    """The vault's passphrase is missing or wrong: nothing was read."""


class VaultCorrupt(VaultError):
    """The vault file was tampered with, truncated or is not a crossbook vault: nothing was read."""


class VaultPermissions(VaultError):
    """The vault file is readable by the group or the world (it must be mode 0600)."""


class UnknownKey(VaultError):
    """A key, wallet or whitelist entry the vault does not hold."""


class SecondFactorError(CrossbookError):
    """A TOTP code is missing, wrong, already used, or too many wrong codes were given."""


class NotWhitelisted(CrossbookError):
    """A withdrawal address is not on crossbook's whitelist (or the venue's): nothing was sent."""


class StrategyMismatch(CrossbookError):
    """A request's strategy does not own the account (sub-account and key) it would use."""


class KeyAuditFailed(CrossbookError):
    """A strict key audit found a high-severity finding: the command or service refuses to start."""


class LeaseNotHeld(CrossbookError):
    """This process does not hold the account's trading lease on the bus (another process trades
    it, or the lease was lost, or the account is still being reconciled): nothing was sent."""


class BusUnavailable(CrossbookError):
    """The bus (NATS JetStream) could not be reached or did not answer in time."""
