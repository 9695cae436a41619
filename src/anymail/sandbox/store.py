"""What the sandbox received: messages, the requests that carried them, events fired."""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime

from .esps import ApiRequest, ApiResponse, Message


@dataclass
class EventRecord:
    """A webhook post the sandbox made to the app, and the app's answer."""

    event: str
    recipient: str
    url: str
    status: int | None
    answer: str
    at: datetime = field(default_factory=lambda: datetime.now(UTC))


@dataclass
class Received:
    id: int
    esp: str
    message: Message
    request: ApiRequest
    response: ApiResponse
    at: datetime = field(default_factory=lambda: datetime.now(UTC))
    events: list[EventRecord] = field(default_factory=list)

    @property
    def status(self) -> str:
        """The last event fired for it, else "accepted"."""
        return self.events[-1].event if self.events else "accepted"


@dataclass
class Rejected:
    """A call the emulator refused (bad key, invalid request), with the ESP's answer."""

    esp: str
    request: ApiRequest
    response: ApiResponse
    at: datetime = field(default_factory=lambda: datetime.now(UTC))


class Store:
    """Thread-safe: the server's threads add, tests and the UI read."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._messages: dict[int, Received] = {}
        self.rejected: list[Rejected] = []

    def add(
        self, esp: str, messages: list[Message], request: ApiRequest, response: ApiResponse
    ) -> list[Received]:
        with self._lock:
            added = [
                Received(next(self._ids), esp, message, request, response) for message in messages
            ]
            self._messages.update((item.id, item) for item in added)
        return added

    def reject(self, esp: str, request: ApiRequest, response: ApiResponse) -> None:
        with self._lock:
            self.rejected.append(Rejected(esp, request, response))

    def get(self, message_id: int) -> Received | None:
        return self._messages.get(message_id)

    def all(self) -> list[Received]:
        """Newest first."""
        with self._lock:
            return sorted(self._messages.values(), key=lambda item: -item.id)

    def clear(self) -> None:
        with self._lock:
            self._messages.clear()
            self.rejected.clear()
