"""Opt-out keywords; ingest applies them, see :mod:`socialinbox.optout`."""

from socialinbox.optout import OPT_IN_KEYWORDS, OPT_OUT_KEYWORDS, detect_opt_out, turkish_casefold

__all__ = ["OPT_IN_KEYWORDS", "OPT_OUT_KEYWORDS", "detect_opt_out", "turkish_casefold"]
