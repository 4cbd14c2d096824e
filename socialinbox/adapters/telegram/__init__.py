"""Telegram: a bot on the Bot API, through python-telegram-bot 22.

* :mod:`~socialinbox.adapters.telegram.codec`: Bot API JSON to socialinbox items (pure).
* :mod:`~socialinbox.adapters.telegram.transport`: a bare PTB ``Bot`` and error mapping.
* :mod:`~socialinbox.adapters.telegram.adapter`: :class:`TelegramAdapter`, polling and sending.
* :mod:`~socialinbox.adapters.telegram.split`: text splitting and Telegram's markup dialects.

The codec and the splitter import without python-telegram-bot; the adapter needs it
(``pip install socialinbox[telegram]``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from socialinbox.adapters.telegram.codec import CODEC, TelegramCodec, merge_albums

if TYPE_CHECKING:
    from socialinbox.adapters.telegram.adapter import TelegramAdapter

__all__ = ["CODEC", "TelegramAdapter", "TelegramCodec", "merge_albums"]


def __getattr__(name: str) -> Any:
    if name == "TelegramAdapter":
        from socialinbox.adapters.telegram.adapter import TelegramAdapter

        return TelegramAdapter
    raise AttributeError(name)
