"""Reference server settings: arguments or ``PLANSTREAM_SERVER_*`` env vars."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Final

from pydantic import (
    Field,
    FilePath,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from planstream.errors import SettingsError
from planstream.settings import settings_problems

__all__ = ["SERVER_ENV_PREFIX", "ServerSettings"]

SERVER_ENV_PREFIX = "PLANSTREAM_SERVER_"
_JWT_KEY_SOURCES: Final = ("jwt_secret_file", "jwt_public_key_file", "jwks_file")


class ServerSettings(BaseSettings):
    """Everything the reference server can be configured with.

    Tokens: with neither ``tokens`` nor ``publish_tokens`` nor
    ``api_keys_file`` set the server is open (it warns at start). A token in
    ``publish_tokens`` may read and publish; one in ``tokens`` may read, and
    publish too only while ``publish_tokens`` is empty. A key of
    ``api_keys_file`` may read and publish the plans its entry lists.
    """

    model_config = SettingsConfigDict(
        env_prefix=SERVER_ENV_PREFIX, env_nested_delimiter="__", frozen=True, extra="forbid"
    )

    host: str = Field("127.0.0.1", description="interface to listen on")
    port: int = Field(8765, ge=0, le=65535, description="TCP port; 0 picks a free one")
    name: str = Field("planstream-reference", min_length=1, description="server name in hello")
    # NoDecode: the env value reaches _split_token_list as it is (a comma list or JSON).
    tokens: Annotated[tuple[SecretStr, ...], NoDecode] = Field(
        (), description="bearer tokens allowed to read"
    )
    publish_tokens: Annotated[tuple[SecretStr, ...], NoDecode] = Field(
        (), description="bearer tokens allowed to publish"
    )
    # --- JWT (docs/security.md#jwt): one key source at most ---
    jwt_secret_file: FilePath | None = Field(
        None, description="file holding the shared secret of HS256 JWTs (at least 32 bytes)"
    )
    jwt_public_key_file: FilePath | None = Field(
        None, description="PEM public key (RSA or EC) verifying RS256 / ES256 JWTs"
    )
    jwks_file: FilePath | None = Field(
        None, description="local JWKS file of public keys; a JWT's kid picks one"
    )
    jwt_audience: str | None = Field(
        None,
        min_length=1,
        description="the aud a JWT must name (unset: JWTs naming one are refused)",
    )
    jwt_issuer: str | None = Field(None, min_length=1, description="the iss a JWT must carry")
    jwt_leeway: float = Field(
        30.0, ge=0, le=600, allow_inf_nan=False, description="clock skew allowed on exp/nbf/iat, s"
    )
    jwt_allow_no_exp: bool = Field(False, description="accept JWTs without exp (never expiring)")
    api_keys_file: FilePath | None = Field(
        None,
        description="TOML file of API key hashes and the plans each key may read and publish "
        "(reloaded on SIGHUP and when it changes)",
    )
    retention: int = Field(10_000, ge=1, description="events retained per plan")
    heartbeat_s: float = Field(15.0, gt=0, allow_inf_nan=False, description="heartbeat period")
    max_frame_bytes: int = Field(1_048_576, ge=4096, description="largest frame sent or accepted")
    max_subscriptions: int = Field(256, ge=1, description="subscriptions per connection")
    batch_max_events: int = Field(256, ge=1, description="events per batch frame")
    control_queue_size: int = Field(256, ge=8, description="queued non-event frames per connection")
    bad_frame_limit: int = Field(
        10, ge=10, description="bad frames in a row tolerated (1008 after)"
    )
    dashboard: bool = Field(
        False,
        description="serve the browser dashboard at / (planstream serve and demo turn it on)",
    )
    allow_unknown_kinds: bool = Field(False, description="accept publishes of unknown kinds")
    compression: bool = Field(False, description="permessage-deflate on the WebSocket")
    ws_ping_interval: float = Field(20.0, gt=0, description="WebSocket keepalive ping, s")
    ws_ping_timeout: float = Field(20.0, gt=0, description="keepalive pong wait, s")
    poll_interval: float = Field(1.0, ge=0, description="X-Poll-Interval advertised to pollers, s")
    max_poll_wait: float = Field(30.0, ge=0, description="longest long-poll wait, s")
    close_timeout: float = Field(5.0, gt=0, description="wait for a close to be sent, s")
    # --- plan lifetime and publishing limits ---
    plan_ttl: float = Field(
        86_400.0,
        gt=0,
        allow_inf_nan=False,
        description="a finished plan is forgotten this long after its terminal status, s",
    )
    publish_rate: float = Field(
        200.0, gt=0, allow_inf_nan=False, description="publish requests per second per token"
    )
    publish_burst: int = Field(1000, ge=1, description="publish requests a token may send at once")
    idempotency_keys_per_plan: int = Field(
        10_000, ge=1, description="Idempotency-Keys kept per plan (the oldest forgotten first)"
    )
    # --- abuse limits (connections, rates) ---
    handshake_timeout: float = Field(
        5.0, gt=0, allow_inf_nan=False, description="time to send a full request head, s"
    )
    max_connections: int = Field(
        1000, ge=1, description="open WebSockets and HTTP requests (503 beyond)"
    )
    frame_rate: float = Field(
        50.0, gt=0, allow_inf_nan=False, description="client frames per second, sustained"
    )
    frame_burst: int = Field(500, ge=1, description="client frames allowed in a burst")

    def __init__(self, **values: Any) -> None:
        try:
            super().__init__(**values)
        except ValidationError as exc:
            raise SettingsError(settings_problems(exc, SERVER_ENV_PREFIX)) from None

    @field_validator("jwt_public_key_file", "jwks_file", mode="after")
    @classmethod
    def _one_jwt_key_source(cls, path: Path | None, info: ValidationInfo) -> Path | None:
        if path is not None:
            earlier = [name for name in _JWT_KEY_SOURCES if info.data.get(name) is not None]
            if earlier:
                raise ValueError(f"set one JWT key source only, not {earlier[0]} too")
        return path

    @field_validator("jwt_audience", "jwt_issuer", mode="after")
    @classmethod
    def _needs_jwt_key(cls, value: str | None, info: ValidationInfo) -> str | None:
        # A key source that failed its own check is absent from info.data: not said twice.
        unset = all(name in info.data and info.data[name] is None for name in _JWT_KEY_SOURCES)
        if value is not None and unset:
            raise ValueError("needs a JWT key: jwt_secret_file, jwt_public_key_file or jwks_file")
        return value

    @field_validator("tokens", "publish_tokens", mode="before")
    @classmethod
    def _split_token_list(cls, value: Any) -> Any:
        # PLANSTREAM_SERVER_TOKENS="a,b" as well as a JSON list.
        if isinstance(value, str):
            if value.lstrip().startswith("["):
                try:
                    return json.loads(value)
                except ValueError:
                    # never echo the value: it holds secrets
                    raise ValueError("is not a valid JSON list") from None
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    # --- TLS ---
    ssl_certfile: FilePath | None = Field(
        None, description="PEM certificate (chain) to serve wss:// and https:// with"
    )
    ssl_keyfile: FilePath | None = Field(
        None, description="its private key (PEM), if not in ssl_certfile"
    )

    @field_validator("ssl_keyfile", mode="after")
    @classmethod
    def _keyfile_needs_certfile(cls, path: Path | None, info: ValidationInfo) -> Path | None:
        if path is not None and info.data.get("ssl_certfile") is None:
            raise ValueError("ssl_keyfile needs ssl_certfile")
        return path

    # --- Redis ---
    redis_url: SecretStr | None = Field(
        None,
        description="redis:// or rediss:// URL of a shared Redis event log (memory if unset)",
    )
    redis_cluster: bool = Field(False, description="redis_url names a Redis Cluster node")

    @field_validator("redis_url", mode="after")
    @classmethod
    def _redis_scheme(cls, url: SecretStr | None) -> SecretStr | None:
        if url is not None and not url.get_secret_value().startswith(("redis://", "rediss://")):
            raise ValueError("must start with redis:// or rediss://")  # never echo it
        return url
