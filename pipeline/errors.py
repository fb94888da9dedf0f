"""Errors a user can act on: each names the file, column or value and what was expected."""


class CatalogError(ValueError):
    """A catalogue file that cannot be read into the canonical schema."""


class ConfigError(ValueError):
    """A setting (threshold, preset, label map) that cannot be used as given."""


class RunError(ValueError):
    """A saved run directory that is missing, incomplete or corrupt."""


class TrainingError(ValueError):
    """Training that cannot give a trustworthy model: a non-finite input or loss."""
