"""The ``callback`` sink: hand each outbox event to a Python callable or coroutine function.

For services that embed socialinbox and want every event as it is stored.
The callable receives an :class:`~socialinbox.crm.base.OutboxEvent` and
returns ``None`` (delivered), a string (delivered, with that remote id) or a
:class:`~socialinbox.crm.base.DeliveryResult`. Raising
:class:`~socialinbox.errors.SinkError` or any other exception makes the event
retry later; ``SinkError(permanent=True)`` makes it a dead letter at once.
The same event can be offered again after a crash, so the callable
deduplicates on ``event.event_key`` when that matters.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import TypeAlias

from socialinbox.crm.base import DeliveryResult, OutboxEvent, Sink
from socialinbox.errors import SinkError

__all__ = ["Callback", "CallbackSink"]

logger = logging.getLogger(__name__)

CallbackReturn: TypeAlias = DeliveryResult | str | None
Callback: TypeAlias = Callable[[OutboxEvent], CallbackReturn | Awaitable[CallbackReturn]]


class CallbackSink(Sink):
    """Deliver each event by calling ``callback(event)``.

    Args:
        callback: a function or coroutine function taking one event.
        name: the sink name used in the deliveries table.
        in_thread: run a plain function in a worker thread, so that a slow
            function does not block the event loop.
    """

    def __init__(self, callback: Callback, *, name: str = "callback", in_thread: bool = False):
        super().__init__(name)
        if not callable(callback):
            raise TypeError(
                f"callback sink {name!r} needs a callable, got {type(callback).__name__}"
            )
        self._callback = callback
        self._in_thread = in_thread

    def describe(self) -> str:
        function = getattr(self._callback, "__qualname__", type(self._callback).__name__)
        return f"callback {self.name} -> {function}"

    async def deliver_one(self, event: OutboxEvent) -> DeliveryResult:
        try:
            if self._in_thread and not inspect.iscoroutinefunction(self._callback):
                value = await asyncio.to_thread(self._callback, event)
            else:
                value = self._callback(event)
            if inspect.isawaitable(value):
                value = await value
        except SinkError:
            raise
        except Exception as error:  # noqa: BLE001 - any failure of user code means "retry later"
            logger.warning(
                "callback sink %s raised %s for outbox %d",
                self.name,
                type(error).__name__,
                event.id,
            )
            return DeliveryResult.retry(f"the callback raised {type(error).__name__}: {error}")

        if value is None:
            return DeliveryResult.delivered()
        if isinstance(value, str):
            return DeliveryResult.delivered(value)
        if isinstance(value, DeliveryResult):
            return value
        return DeliveryResult.failed(
            f"the callback returned {type(value).__name__}; expected None, str or DeliveryResult"
        )
