"""python-telegram-bot's HTTP layer on aiohttp instead of httpx.

Every policyholder message costs the app two or three Bot API requests (the getUpdates that
brings it, the reply, often a second reply), and an httpx request costs ~1 ms of CPU against
aiohttp's ~0.26 ms (measured on loopback, same server, same body). python-telegram-bot leaves
the transport to a ``BaseRequest`` subclass; this one sends what its own ``HTTPXRequest`` sends
(form-encoded parameters, multipart when a file goes along, its user agent) and maps failures
the same way: a timeout is ``TimedOut``, any other transport error ``NetworkError``. What
Telegram answers, 429 and 400 and 5xx included, is read by ``BaseRequest`` as before.
"""

from __future__ import annotations

from typing import Any

import aiohttp
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

# Idle connections are dropped after 5 s, as httpx does (python-telegram-bot's default).
KEEPALIVE_SECONDS = 5.0


class AiohttpRequest(BaseRequest):
    """A pool of kept-alive connections to the Bot API; the timeouts of ``HTTPXRequest``."""

    def __init__(
        self,
        *,
        connection_pool_size: int = 256,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
        media_write_timeout: float | None = 20.0,
    ) -> None:
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._media_write_timeout = media_write_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(
                    limit=self._pool_size, keepalive_timeout=KEEPALIVE_SECONDS
                ),
                headers={"User-Agent": self.USER_AGENT},
                # Like httpx: HTTPS_PROXY / NO_PROXY from the environment apply (a host that
                # reaches Telegram only through a proxy keeps working).
                trust_env=True,
            )

    async def shutdown(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        files = request_data.multipart_data if request_data else None
        read = self._read_timeout if isinstance(read_timeout, DefaultValue) else read_timeout
        connect = (
            self._connect_timeout if isinstance(connect_timeout, DefaultValue) else connect_timeout
        )
        pool = self._pool_timeout if isinstance(pool_timeout, DefaultValue) else pool_timeout
        write = (
            (self._media_write_timeout if files else self._write_timeout)
            if isinstance(write_timeout, DefaultValue)
            else write_timeout
        )
        # aiohttp has no write timeout: a request's sending and the answer's first byte share
        # ``sock_read``'s wait, so it gets both allowances. ``connect`` covers waiting for a
        # pooled connection and opening one.
        timeout = aiohttp.ClientTimeout(
            connect=None if connect is None or pool is None else connect + pool,
            sock_connect=connect,
            sock_read=None if read is None else read + (write or 0.0),
        )
        try:
            async with self._session.request(
                method, url, data=_body(request_data, files), timeout=timeout
            ) as response:
                return response.status, await response.read()
        except TimeoutError as error:  # aiohttp's own timeouts are TimeoutErrors too
            raise TimedOut from error
        except aiohttp.ClientError as error:
            raise NetworkError(f"aiohttp.{type(error).__name__}: {error}") from error


def _body(request_data: RequestData | None, files: dict[str, Any] | None) -> Any:
    """Form-encoded parameters, or multipart with the files, as ``HTTPXRequest`` sends them
    (``files``: the request's multipart data, built once by the caller)."""
    if request_data is None:
        return None
    if not files:
        return request_data.json_parameters
    form = aiohttp.FormData()
    for name, value in request_data.json_parameters.items():
        form.add_field(name, value)
    for name, upload in files.items():
        filename, content, *rest = upload
        form.add_field(name, content, filename=filename, content_type=rest[0] if rest else None)
    return form
