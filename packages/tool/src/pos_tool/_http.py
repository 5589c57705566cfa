"""The streamable HTTP transport, hardened for a network: auth, session limits, timeouts.

- **Authentication**: bearer tokens (from a file or the environment) checked by the MCP
  SDK's bearer middleware through a :class:`StaticTokenVerifier`; every route of the app,
  not only ``/mcp``, goes through :func:`protect`.
- **Session limits**: at most ``max_sessions`` MCP sessions in all and
  ``max_sessions_per_client`` per client (its token's name, else its IP address). A
  client at its limit that opens another session evicts its own least recently used idle
  session; at the total limit the least recently used idle session of anyone goes. A
  flood of ``initialize`` from one client therefore never locks the others out (the
  SDK alone answers 503 to everyone until its 30-minute idle timeout frees a slot).
  Sessions idle for ``session_idle_timeout`` seconds end.
- **Timeouts**: a connection must deliver its request headers within
  ``header_timeout`` seconds and the whole request within ``request_timeout``; idle
  keep-alive connections close after uvicorn's ``timeout_keep_alive``; one address may
  hold at most ``max_connections_per_client`` connections.

The session limits subclass the SDK's session manager and use its admission and discard
hooks (``_admit_session``, ``_discard_session``, ``_handle_stateful_request``); the SDK
version is locked, and tests drive the real thing, so a change there fails loudly.
"""

from __future__ import annotations

import asyncio
import contextvars
import hmac
import ipaddress
import logging
import os
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import h11
from mcp.server.auth.middleware.auth_context import AuthContextMiddleware
from mcp.server.auth.middleware.bearer_auth import BearerAuthBackend, RequireAuthMiddleware
from mcp.server.auth.provider import AccessToken
from mcp.server.mcpserver import MCPServer
from mcp.server.streamable_http import MCP_SESSION_ID_HEADER, StreamableHTTPServerTransport
from mcp.server.streamable_http_manager import StreamableHTTPASGIApp, StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

from ._defaults import DEFAULT_LIMITS, TOKEN_ENV, TOKEN_FILE_ENV, HttpLimits
from .exceptions import ServerConfigError

__all__ = [
    "DEFAULT_LIMITS",
    "MIN_TOKEN_CHARS",
    "TOKEN_ENV",
    "TOKEN_FILE_ENV",
    "GuardedH11Protocol",
    "HttpLimits",
    "LimitedSessionManager",
    "StaticTokenVerifier",
    "build_app",
    "is_loopback",
    "load_tokens",
    "protect",
]

logger = logging.getLogger(__name__)

MIN_TOKEN_CHARS = 24
"""Shortest token accepted: shorter ones can be guessed."""

_HOW_TO_GENERATE = (
    "Generate one with: python3 -c 'import secrets; print(secrets.token_urlsafe(32))'"
)


# ------------------------------------------------------------------------- auth


class StaticTokenVerifier:
    """Accepts the configured bearer tokens; each token's name identifies its client.

    Every token is compared in constant time, so timing reveals nothing about them.
    """

    def __init__(self, tokens: Mapping[str, str]) -> None:
        self._tokens = [(token.encode(), name) for token, name in tokens.items()]

    async def verify_token(self, token: str) -> AccessToken | None:
        """Return the token's access info when it is one of the configured tokens."""
        offered = token.encode("utf-8", "surrogateescape")
        match = None
        for known, name in self._tokens:
            if hmac.compare_digest(offered, known):
                match = name
        if match is None:
            return None
        return AccessToken(token=token, client_id=match, scopes=[])


def _check_token(token: str, where: str) -> str:
    if len(token) < MIN_TOKEN_CHARS or any(c.isspace() for c in token):
        raise ServerConfigError(
            f"{where}: a token must be at least {MIN_TOKEN_CHARS} characters without spaces",
            remediation=_HOW_TO_GENERATE,
        )
    return token


def load_tokens(token_file: Path | None, environ: Mapping[str, str] = os.environ) -> dict[str, str]:
    """Return the configured tokens (token -> client name); empty when none is configured.

    Sources: ``token_file`` (else ``$POS_WORKFLOW_AUTH_TOKEN_FILE``), one token per line
    as ``<name> <token>`` or just ``<token>`` (named ``token-<line>``), ``#`` comments and
    blank lines ignored; and ``$POS_WORKFLOW_AUTH_TOKEN`` (named ``env``).

    Raises:
        ServerConfigError: the file cannot be read, or a token is too short.
    """
    tokens: dict[str, str] = {}
    path = token_file or (Path(environ[TOKEN_FILE_ENV]) if environ.get(TOKEN_FILE_ENV) else None)
    if path is not None:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            reason = getattr(exc, "strerror", None) or type(exc).__name__
            raise ServerConfigError(
                f"cannot read the auth token file {path.name!r} ({reason})",
                remediation="Pass --auth-token-file with a readable file of tokens, one per line.",
            ) from None
        for number, line in enumerate(text.splitlines(), start=1):
            words = line.split("#", 1)[0].split()
            if not words:
                continue
            if len(words) > 2:
                raise ServerConfigError(
                    f"{path.name} line {number}: expected '<token>' or '<name> <token>'",
                    remediation="Write one token per line, optionally preceded by a client name.",
                )
            name, token = (words[0], words[1]) if len(words) == 2 else (f"token-{number}", words[0])
            tokens[_check_token(token, f"{path.name} line {number}")] = name
    if environ.get(TOKEN_ENV):
        tokens[_check_token(environ[TOKEN_ENV].strip(), f"${TOKEN_ENV}")] = "env"
    return tokens


def protect(endpoint: ASGIApp, *, auth: bool) -> ASGIApp:
    """Return ``endpoint`` behind the bearer check when ``auth`` is on (401 without a token)."""
    return RequireAuthMiddleware(endpoint, [], None) if auth else endpoint


def is_loopback(host: str) -> bool:
    """Whether ``host`` is reachable only from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


# -------------------------------------------------------------- session limits

_CLIENT: contextvars.ContextVar[str] = contextvars.ContextVar("pos_http_client", default="?")


def _client_of(scope: Scope) -> str:
    user = scope.get("user")
    token = getattr(user, "access_token", None)
    if isinstance(token, AccessToken):
        return f"token:{token.client_id}"
    client = scope.get("client")
    return f"ip:{client[0]}" if client else "ip:?"


@dataclass
class _Seen:
    client: str
    last: float
    busy: int = 0


class LimitedSessionManager(StreamableHTTPSessionManager):
    """The SDK's session manager with per-client limits and least-recently-used eviction."""

    def __init__(self, *args: Any, max_sessions_per_client: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.max_sessions_per_client = max_sessions_per_client
        self._seen: dict[str, _Seen] = {}
        self.evicted = 0

    async def _handle_stateful_request(self, scope: Scope, receive: Receive, send: Send) -> None:
        sid = _header(scope, MCP_SESSION_ID_HEADER)
        seen = self._seen.get(sid) if sid is not None else None
        if seen is None:
            token = _CLIENT.set(_client_of(scope))
            try:
                await super()._handle_stateful_request(scope, receive, send)
            finally:
                _CLIENT.reset(token)
            return
        seen.busy += 1
        seen.last = time.monotonic()
        try:
            await super()._handle_stateful_request(scope, receive, send)
        finally:
            seen.busy -= 1
            seen.last = time.monotonic()

    def _admit_session(self, requestor: Any) -> StreamableHTTPServerTransport | None:
        client = _CLIENT.get()
        mine = [sid for sid, seen in self._seen.items() if seen.client == client]
        if len(mine) >= self.max_sessions_per_client:
            self._evict(mine)
        if self.max_sessions is not None and len(self._server_instances) >= self.max_sessions:
            self._evict(list(self._seen))
        transport = super()._admit_session(requestor)
        if transport is not None and transport.mcp_session_id is not None:
            self._seen[transport.mcp_session_id] = _Seen(client, time.monotonic())
        return transport

    def _evict(self, candidates: list[str]) -> None:
        """End the least recently used idle session among ``candidates`` (none if all are busy)."""
        idle = [sid for sid in candidates if self._seen[sid].busy == 0]
        if not idle:
            return
        victim = min(idle, key=lambda sid: self._seen[sid].last)
        transport = self._server_instances.pop(victim, None)
        self._session_owners.pop(victim, None)
        self._seen.pop(victim, None)
        self.evicted += 1
        logger.info("evicted idle MCP session %s to admit a new one", victim[:12])
        if transport is not None and self._task_group is not None:
            self._task_group.start_soon(transport.terminate)

    async def _discard_session(
        self, session_id: str, transport: StreamableHTTPServerTransport
    ) -> None:
        self._seen.pop(session_id, None)
        await super()._discard_session(session_id, transport)


def _header(scope: Scope, name: str) -> str | None:
    wanted = name.lower().encode("latin-1")
    for key, value in scope.get("headers", ()):
        if key == wanted:
            decoded: str = value.decode("latin-1")
            return decoded
    return None


def build_app(
    server: MCPServer,
    *,
    path: str,
    security: TransportSecuritySettings,
    max_body_bytes: int,
    limits: HttpLimits,
    verifier: StaticTokenVerifier | None,
) -> tuple[Starlette, LimitedSessionManager]:
    """Return the Starlette app serving ``server`` at ``path``, and its session manager.

    Mirrors the SDK's ``streamable_http_app`` (same manager, same bearer middleware),
    with :class:`LimitedSessionManager` in place of the plain manager. A POST is
    answered with one JSON body, not an SSE stream: no tool call streams anything, and
    the SDK's JSON mode serves more requests per second.
    """
    manager = LimitedSessionManager(
        app=server._lowlevel_server,
        json_response=True,
        security_settings=security,
        max_request_body_size=max_body_bytes,
        session_idle_timeout=limits.session_idle_timeout,
        max_sessions=limits.max_sessions,
        max_sessions_per_client=limits.max_sessions_per_client,
    )
    middleware = []
    if verifier is not None:
        middleware = [
            Middleware(AuthenticationMiddleware, backend=BearerAuthBackend(verifier)),
            Middleware(AuthContextMiddleware),
        ]
    endpoint = protect(StreamableHTTPASGIApp(manager), auth=verifier is not None)
    app = Starlette(
        routes=[Route(path, endpoint=endpoint)],
        middleware=middleware,
        lifespan=lambda _app: manager.run(),
    )
    return app, manager


# --------------------------------------------------------------- connections


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a request deadline and a per-address connection cap.

    uvicorn times out idle keep-alive connections, but waits forever for the headers of
    a request that never completes: 3,000 half-sent requests were held over a minute.
    """

    header_timeout = HttpLimits.header_timeout
    request_timeout = HttpLimits.request_timeout
    max_per_client = HttpLimits.max_connections_per_client
    _per_client: ClassVar[Counter[str]] = Counter()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._address = self.client[0] if self.client else "?"
        self._deadline: asyncio.TimerHandle | None = None
        self._per_client[self._address] += 1
        if self._per_client[self._address] > self.max_per_client:
            logger.warning("refused a connection: %s holds too many", self._address)
            transport.close()
            return
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        counts = self._per_client
        counts[self._address] -= 1
        if counts[self._address] <= 0:
            del counts[self._address]
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._arm()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._disarm()  # uvicorn's keep-alive timer takes over until the next request

    def _arm(self) -> None:
        """Keep a deadline running while a request is being received."""
        state = self.conn.their_state
        if state is h11.IDLE and self._deadline is None:
            self._deadline = self.loop.call_later(self.header_timeout, self._expire, "headers")
        elif state is h11.SEND_BODY and self._deadline is not None and not self._body_armed:
            self._deadline.cancel()
            self._deadline = self.loop.call_later(self.request_timeout, self._expire, "request")
            self._body_armed = True
        elif state not in (h11.IDLE, h11.SEND_BODY):
            self._disarm()

    _body_armed = False

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None
        self._body_armed = False

    @classmethod
    def configured(cls, limits: HttpLimits) -> type[GuardedH11Protocol]:
        """Return a subclass applying ``limits`` (with its own per-address counts)."""
        return type(
            "ConfiguredH11Protocol",
            (cls,),
            {
                "header_timeout": limits.header_timeout,
                "request_timeout": limits.request_timeout,
                "max_per_client": limits.max_connections_per_client,
                "_per_client": Counter(),
            },
        )

    def _expire(self, what: str) -> None:
        self._deadline = None
        if self.conn.their_state in (h11.IDLE, h11.SEND_BODY) and not self.transport.is_closing():
            logger.info("closed a connection from %s: its %s took too long", self._address, what)
            self.transport.close()
