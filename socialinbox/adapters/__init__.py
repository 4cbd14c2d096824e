"""Platform adapters and the registry of their codecs."""

from __future__ import annotations

import importlib
from typing import Any

from socialinbox.adapters.base import Codec
from socialinbox.errors import UsageError
from socialinbox.model import Platform

__all__ = ["available_codecs", "get_codec", "sniff_platform"]

# Codecs are imported lazily so that a missing optional client library for one
# platform never breaks the others. Each entry is "module:attribute".
_CODEC_PATHS: dict[Platform, str] = {
    Platform.TELEGRAM: "socialinbox.adapters.telegram.codec:CODEC",
    Platform.X: "socialinbox.adapters.twitter.codec:CODEC",
    Platform.MESSENGER: "socialinbox.adapters.meta.codec:MESSENGER_CODEC",
    Platform.INSTAGRAM: "socialinbox.adapters.meta.codec:INSTAGRAM_CODEC",
}


def get_codec(platform: Platform) -> Codec:
    """Return the codec of ``platform``.

    Raises:
        UsageError: the platform's codec is not installed in this build.
    """
    module_name, _, attribute = _CODEC_PATHS[platform].partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise UsageError(f"the {platform.value} codec could not be imported: {error}") from error
    codec: Codec = getattr(module, attribute)
    return codec


def available_codecs() -> list[Codec]:
    """Return the codecs that import in this environment, in a fixed order."""
    codecs = []
    for platform in _CODEC_PATHS:
        try:
            codecs.append(get_codec(platform))
        except UsageError:
            continue
    return codecs


def sniff_platform(payload: Any) -> Platform | None:
    """Guess which platform produced ``payload`` from its shape."""
    for codec in available_codecs():
        if codec.sniff(payload):
            return codec.platform
    return None
