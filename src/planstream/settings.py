"""Client settings: arguments, ``ClientSettings`` or ``PLANSTREAM_*`` env vars.

Nested values use ``__``: ``PLANSTREAM_RECONNECT__INITIAL_DELAY=0.1``. A bad
value fails at construction with :class:`~planstream.errors.SettingsError`
naming the environment variable that sets it (or the argument, when code
passed it: :mod:`planstream.settings_env`); the value itself is never echoed
(it may be the token). A ``PLANSTREAM_*`` variable no setting reads is
reported with a :class:`~planstream.errors.PlanStreamWarning`. Server URLs are
read by :mod:`planstream.endpoints`, in every form users write.
"""

from __future__ import annotations

import json
import os
import re
import ssl
from pathlib import Path
from ssl import SSLContext
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    FilePath,
    PrivateAttr,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from pydantic_settings import SettingsError as PydanticSettingsError

from planstream.backoff import BackoffPolicy, JitterMode, RandomSource
from planstream.connection_state import TransportMode
from planstream.endpoints import STREAM_PATH, ServerEndpoints
from planstream.errors import SettingsError
from planstream.redaction import is_header_safe
from planstream.sequencer import Sequencer
from planstream.settings_env import (
    ENV_NESTED_DELIMITER,
    ENV_PREFIX,
    env_var_name,
    known_variables,
    settings_problems,
    warn_unknown_variables,
)

__all__ = [
    "DEFAULT_URL",
    "ENV_PREFIX",
    "ClientSettings",
    "HeartbeatSettings",
    "PollingSettings",
    "ReconnectSettings",
    "SequencerSettings",
    "SslSettings",
    "env_var_name",
    "settings_problems",
]

DEFAULT_URL = f"ws://127.0.0.1:8765{STREAM_PATH}"
#: The most server URLs one client accepts (a list, not a discovery service).
MAX_URLS = 64


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ReconnectSettings(_Section):
    """Reconnect backoff (protocol §4). Env: ``PLANSTREAM_RECONNECT__*``."""

    initial_delay: float = Field(0.5, gt=0, allow_inf_nan=False, description="first delay, s")
    max_delay: float = Field(30.0, gt=0, allow_inf_nan=False, description="delay cap, s")
    factor: float = Field(2.0, ge=1, allow_inf_nan=False, description="growth per attempt")
    jitter: JitterMode = Field(JitterMode.FULL, description="full|equal|decorrelated|none")
    max_attempts: int | None = Field(None, ge=1, description="None: retry forever")
    reset_after: float = Field(
        30.0, ge=0, allow_inf_nan=False, description="healthy seconds that reset the attempts"
    )

    @field_validator("max_delay", mode="after")
    @classmethod
    def _cap_not_below_start(cls, max_delay: float, info: ValidationInfo) -> float:
        initial_delay = info.data.get("initial_delay")
        if initial_delay is not None and max_delay < initial_delay:
            raise ValueError("max_delay must be at least initial_delay")
        return max_delay

    def policy(self) -> BackoffPolicy:
        """The pure backoff policy these settings describe."""
        return BackoffPolicy(
            initial_delay=self.initial_delay,
            max_delay=self.max_delay,
            factor=self.factor,
            jitter=self.jitter,
            max_attempts=self.max_attempts,
        )


class HeartbeatSettings(_Section):
    """Liveness checks (protocol §3). Env: ``PLANSTREAM_HEARTBEAT__*``."""

    ping_interval: float = Field(20.0, gt=0, allow_inf_nan=False, description="WebSocket ping, s")
    ping_timeout: float = Field(20.0, gt=0, allow_inf_nan=False, description="pong wait, s")
    dead_after_factor: float = Field(
        2.5, ge=1, allow_inf_nan=False, description="silence of heartbeat_s x this = dead"
    )
    max_interval: float = Field(
        300.0,
        ge=1,
        le=300,
        allow_inf_nan=False,
        description="largest hello.heartbeat_s trusted, s (protocol §2 clamps to 1-300)",
    )


class SequencerSettings(_Section):
    """Ordering and de-duplication (protocol §1). Env: ``PLANSTREAM_SEQUENCER__*``."""

    reorder_window: int = Field(1024, ge=1, le=1_000_000, description="events buffered per plan")
    dedup_window: int = Field(4096, ge=1, le=1_000_000, description="ids remembered per plan")
    gap_timeout: float = Field(2.0, gt=0, allow_inf_nan=False, description="gap wait, s")
    resubscribe_timeout: float = Field(
        10.0, gt=0, allow_inf_nan=False, description="repair answer wait, s"
    )
    max_failed_repairs: int = Field(
        5, ge=1, le=1000, description="repairs of a plan without progress before it fails"
    )

    def sequencer(
        self, repair_backoff: BackoffPolicy | None = None, rng: RandomSource | None = None
    ) -> Sequencer:
        """A sequencer configured by these settings.

        ``repair_backoff``: the delays between repairs of one plan that make no
        progress (the client passes its reconnect policy); its ``max_attempts``
        is ignored: ``max_failed_repairs`` bounds the repairs.
        """
        return Sequencer(
            reorder_window=self.reorder_window,
            dedup_window=self.dedup_window,
            gap_timeout=self.gap_timeout,
            resubscribe_timeout=self.resubscribe_timeout,
            repair_backoff=repair_backoff,
            max_failed_repairs=self.max_failed_repairs,
            rng=rng,
        )


class PollingSettings(_Section):
    """HTTP long-polling fallback (protocol §6). Env: ``PLANSTREAM_POLLING__*``."""

    wait: float = Field(
        20.0, ge=0, le=300, allow_inf_nan=False, description="long-poll wait per request, s"
    )
    limit: int = Field(500, ge=1, le=1000, description="events asked for per request")
    request_timeout: float = Field(
        10.0, gt=0, allow_inf_nan=False, description="request time beyond the wait, s"
    )
    max_response_bytes: int = Field(
        8 * 1024 * 1024, ge=1024, description="largest poll answer read, bytes"
    )
    fallback_after: int = Field(
        2, ge=1, description="upgrade refusals in a row before auto switches to polling"
    )
    websocket_retry_interval: float = Field(
        30.0, gt=0, allow_inf_nan=False, description="while polling, s between WebSocket probes"
    )


def _load_certificates(path: Path) -> None:
    """Raise ValueError unless ``path`` is a PEM file of CA certificates."""
    try:
        ssl.create_default_context(cafile=path)
    except (ssl.SSLError, OSError, ValueError):
        raise ValueError("is not a readable PEM file of CA certificates") from None


class SslSettings(_Section):
    """TLS for ``wss://`` (and the ``https://`` polling fallback). Env: ``PLANSTREAM_SSL__*``.

    Verification is on by default, against the system's CA certificates. In
    code, ``PlanStreamClient(url, ssl=context)`` passes a ready
    :class:`SSLContext` instead (it lands in ``context`` and wins over the
    other fields).
    """

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    ca_file: FilePath | None = Field(
        None, description="PEM file of the CA certificates to trust, instead of the system's"
    )
    verify: bool = Field(True, description="verify the server's certificate and host name")
    cert_file: FilePath | None = Field(None, description="client certificate (PEM), mutual TLS")
    key_file: FilePath | None = Field(
        None, description="its private key (PEM), if not in cert_file"
    )
    context: SSLContext | None = Field(
        None, exclude=True, description="a ready SSLContext (code only); wins over the rest"
    )
    _built: SSLContext | None = PrivateAttr(None)

    @field_validator("ca_file", mode="after")
    @classmethod
    def _readable_ca_file(cls, path: Path | None) -> Path | None:
        if path is not None:
            _load_certificates(path)  # fail at construction, not at the first connect
        return path

    @field_validator("key_file", mode="after")
    @classmethod
    def _key_with_certificate(cls, path: Path | None, info: ValidationInfo) -> Path | None:
        if path is not None and info.data.get("cert_file") is None:
            raise ValueError("key_file needs cert_file")
        return path

    @model_validator(mode="after")
    def _client_certificate(self) -> SslSettings:
        if self.cert_file is not None and self.context is None:
            self._built = self._build()
        return self

    def _build(self) -> SSLContext:
        context = ssl.create_default_context(cafile=self.ca_file)
        if not self.verify:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        if self.cert_file is not None:
            try:
                context.load_cert_chain(self.cert_file, self.key_file)
            except (ssl.SSLError, OSError):
                raise ValueError(
                    "cert_file and key_file are not a PEM certificate and key"
                ) from None
        return context

    def client_context(self) -> SSLContext:
        """The context both transports use: ``context``, else one built once from the fields."""
        if self.context is not None:
            return self.context
        if self._built is None:
            self._built = self._build()  # lazily: the system's CA store takes ~50 ms to load
        return self._built


def _stream_url(value: str) -> str:
    """Any URL form users write (``planstream.endpoints``) -> the stream URL."""
    return ServerEndpoints.from_url(value).stream_url


def _url_list(value: object) -> object:
    """``PLANSTREAM_URLS``: a JSON list, or URLs separated by commas."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    if not text:
        return None  # like an empty PLANSTREAM_TOKEN: not set
    if text.startswith("["):
        try:
            return json.loads(text)
        except ValueError:
            raise ValueError("is neither a JSON list nor comma-separated URLs") from None
    return [part.strip() for part in text.split(",") if part.strip()]


def _distinct_urls(urls: list[str] | None) -> list[str] | None:
    if urls is None:
        return None
    if not urls:
        raise ValueError("must list at least one URL (or leave urls unset)")
    if len(urls) > MAX_URLS:
        raise ValueError(f"lists more than {MAX_URLS} URLs")
    if len(set(urls)) != len(urls):
        raise ValueError("lists the same URL twice")
    return urls


def _empty_is_none(value: object) -> object:
    """``PLANSTREAM_CHECKPOINT=`` (empty) means no checkpoint, not the current directory."""
    return None if value == "" else value


class ClientSettings(BaseSettings):
    """Everything the client can be configured with.

    Each field is also read from ``PLANSTREAM_<FIELD>`` (nested:
    ``PLANSTREAM_<SECTION>__<FIELD>``); arguments win over the environment.
    """

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter=ENV_NESTED_DELIMITER,
        frozen=True,
        extra="forbid",
    )

    url: Annotated[str, AfterValidator(_stream_url)] = Field(
        DEFAULT_URL,
        description="the server: ws(s)://HOST[:PORT][/PREFIX][/v1/stream] or http(s)://HOST[:PORT][/PREFIX]",
    )
    urls: Annotated[
        list[Annotated[str, AfterValidator(_stream_url)]] | None,
        NoDecode,
        BeforeValidator(_url_list),
        AfterValidator(_distinct_urls),
    ] = Field(
        None,
        description="several nodes' URLs (each like url), tried in order; wins over url",
    )
    token: SecretStr | None = Field(None, description="Bearer token; never logged")
    transport: TransportMode = Field(TransportMode.AUTO, description="auto|websocket|polling")
    reconnect: ReconnectSettings = Field(default_factory=ReconnectSettings)
    heartbeat: HeartbeatSettings = Field(default_factory=HeartbeatSettings)
    sequencer: SequencerSettings = Field(default_factory=SequencerSettings)
    polling: PollingSettings = Field(default_factory=PollingSettings)
    ssl: SslSettings = Field(default_factory=SslSettings)
    compression: bool = Field(
        False, description="offer permessage-deflate (costs CPU and memory, see docs)"
    )
    debug_frames: bool = Field(
        False,
        description="log every WebSocket frame in and out on 'planstream.frames' "
        "(size-capped, tokens redacted)",
    )
    open_timeout: float = Field(
        10.0, gt=0, allow_inf_nan=False, description="connect + handshake + hello, s"
    )
    connect_timeout: float | None = Field(
        30.0,
        ge=0,
        allow_inf_nan=False,
        description="no first connection by then: fail with ConnectTimeoutError, s; 0/None: wait",
    )
    max_frame_bytes: int = Field(1_048_576, ge=1024, description="largest frame accepted")
    queue_size: int = Field(
        4096, ge=1, le=10_000_000, description="items buffered per subscription"
    )
    checkpoint: Annotated[Path | None, BeforeValidator(_empty_is_none)] = Field(
        None,
        description="SQLite file of the durable cursor: subscribe() resumes each plan from it",
    )

    def __init__(self, **values: Any) -> None:
        warn_unknown_variables(os.environ, _KNOWN_VARIABLES)
        try:
            super().__init__(**values)
        except ValidationError as exc:
            # A value passed as an argument is named as such, not as the
            # variable the user may never have set.
            raise SettingsError(settings_problems(exc, arguments=values)) from None
        except PydanticSettingsError as exc:
            # e.g. a section variable holding malformed JSON
            match = re.search(r'field "([^"]+)"', str(exc))
            field = match.group(1) if match else "?"
            raise SettingsError([(env_var_name((field,)), "is not valid JSON")]) from None

    @field_validator("token", mode="after")
    @classmethod
    def _empty_token_is_none(cls, token: SecretStr | None) -> SecretStr | None:
        if token is not None and not token.get_secret_value():
            return None
        if token is not None and not is_header_safe(token.get_secret_value()):
            # An HTTP library would refuse it later, quoting it in its error.
            raise ValueError("must be printable ASCII without spaces (an HTTP header value)")
        return token

    @field_validator("connect_timeout", mode="after")
    @classmethod
    def _zero_waits_forever(cls, seconds: float | None) -> float | None:
        return seconds or None

    @property
    def server_endpoints(self) -> tuple[ServerEndpoints, ...]:
        """The stream URL and HTTP base of each of :attr:`endpoints`."""
        return tuple(ServerEndpoints.from_url(url) for url in self.endpoints)

    @property
    def endpoints(self) -> tuple[str, ...]:
        """The server URLs the client uses, in order: ``urls`` when set, else ``url``."""
        return tuple(self.urls) if self.urls else (self.url,)

    def ssl_context(self, url: str | None = None) -> SSLContext | None:
        """The TLS context of a ``wss://`` URL (None for ``ws://``): see :class:`SslSettings`.

        ``url``: which endpoint (default: the first of :attr:`endpoints`).
        """
        url = self.endpoints[0] if url is None else url
        return self.ssl.client_context() if url.startswith("wss:") else None


#: Every ``PLANSTREAM_*`` variable a client setting reads.
_KNOWN_VARIABLES = known_variables(ClientSettings)
