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
    """A venue cannot be reached."""


class CaptureFormatError(CrossbookError):
    """A capture file line does not have the documented shape."""
