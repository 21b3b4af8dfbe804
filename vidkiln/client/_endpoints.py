"""Endpoints written once: a function that builds a `Call`, bound as a method of the sync or the async API class.

`sync(build)` on a class whose instances have a `SyncTransport` as `_transport` makes `obj.name(...)` run the call
and return its answer; `aio(build)` makes it a coroutine. The builder's signature and docstring are the method's.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine
from typing import Any, Generic, ParamSpec, Protocol, TypeVar, overload

from vidkiln.client._http import AsyncTransport, Call, SyncTransport

P = ParamSpec("P")
T = TypeVar("T")


class HasSync(Protocol):
    _transport: SyncTransport


class HasAsync(Protocol):
    _transport: AsyncTransport


class SyncEndpoint(Generic[P, T]):
    """A method that runs its call on the owner's sync transport."""

    def __init__(self, build: Callable[P, Call[T]]) -> None:
        self._build = build
        self.__doc__ = build.__doc__

    @overload
    def __get__(self, obj: None, owner: type[Any]) -> SyncEndpoint[P, T]: ...
    @overload
    def __get__(self, obj: HasSync, owner: type[Any]) -> Callable[P, T]: ...
    def __get__(self, obj: HasSync | None, owner: type[Any]) -> SyncEndpoint[P, T] | Callable[P, T]:
        if obj is None:
            return self
        transport, build = obj._transport, self._build

        @functools.wraps(build)
        def method(*args: P.args, **kwargs: P.kwargs) -> T:
            return transport.run(build(*args, **kwargs))

        return method


class AsyncEndpoint(Generic[P, T]):
    """A coroutine method that runs its call on the owner's async transport."""

    def __init__(self, build: Callable[P, Call[T]]) -> None:
        self._build = build
        self.__doc__ = build.__doc__

    @overload
    def __get__(self, obj: None, owner: type[Any]) -> AsyncEndpoint[P, T]: ...
    @overload
    def __get__(self, obj: HasAsync, owner: type[Any]) -> Callable[P, Coroutine[Any, Any, T]]: ...
    def __get__(
        self, obj: HasAsync | None, owner: type[Any]
    ) -> AsyncEndpoint[P, T] | Callable[P, Coroutine[Any, Any, T]]:
        if obj is None:
            return self
        transport, build = obj._transport, self._build

        @functools.wraps(build)
        async def method(*args: P.args, **kwargs: P.kwargs) -> T:
            return await transport.run(build(*args, **kwargs))

        return method


def sync(build: Callable[P, Call[T]]) -> SyncEndpoint[P, T]:
    """The builder as a method of a sync API class."""
    return SyncEndpoint(build)


def aio(build: Callable[P, Call[T]]) -> AsyncEndpoint[P, T]:
    """The builder as a coroutine method of an async API class."""
    return AsyncEndpoint(build)
