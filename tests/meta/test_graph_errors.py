"""Graph error classification and the Graph client against the emulator."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from socialinbox.adapters.meta.graph import (
    GraphClient,
    Health,
    appsecret_proof,
    classify_error,
    health_of,
    normalize_version,
)
from socialinbox.errors import (
    AuthError,
    ConfigError,
    NotEligible,
    NotFound,
    PermissionDenied,
    PlatformError,
    RateLimited,
    TransportError,
)
from socialinbox.model import Platform
from socialinbox.testing._server import BackgroundServer
from socialinbox.testing.meta import MetaEmulator

TOKEN = "EAAG-page-token-for-tests"
APP_SECRET = "emulator-app-secret"


def graph_error(
    code: int, message: str, subcode: int | None = None, **extra: Any
) -> dict[str, Any]:
    error: dict[str, Any] = {"message": message, "type": "OAuthException", "code": code, **extra}
    if subcode is not None:
        error["error_subcode"] = subcode
    return {"error": error}


# Messages in several languages: the class must follow the code, never the wording.
CASES = [
    (
        400,
        graph_error(4, "(#4) Application request limit reached"),
        RateLimited,
        Health.RATE_LIMITED,
    ),
    (
        400,
        graph_error(17, "(#17) Kullanıcı istek sınırına ulaşıldı"),
        RateLimited,
        Health.RATE_LIMITED,
    ),
    (400, graph_error(32, "Seitenanfragelimit erreicht"), RateLimited, Health.RATE_LIMITED),
    (
        400,
        graph_error(613, "Calls to this API have exceeded the rate limit."),
        RateLimited,
        Health.RATE_LIMITED,
    ),
    (400, graph_error(80006, "Çok fazla Messenger API çağrısı"), RateLimited, Health.RATE_LIMITED),
    (400, graph_error(80002, "Trop d'appels Instagram"), RateLimited, Health.RATE_LIMITED),
    (429, None, RateLimited, Health.RATE_LIMITED),
    (400, graph_error(190, "Erişim belirteci geçersiz"), AuthError, Health.NEEDS_REAUTH),
    (400, graph_error(190, "Sesión caducada", subcode=463), AuthError, Health.NEEDS_REAUTH),
    (400, graph_error(190, "密码已更改", subcode=460), AuthError, Health.NEEDS_REAUTH),
    (401, None, AuthError, Health.NEEDS_REAUTH),
    (403, graph_error(10, "(#10) İzin reddedildi"), PermissionDenied, Health.DEGRADED),
    (403, graph_error(200, "(#200) Berechtigung fehlt"), PermissionDenied, Health.DEGRADED),
    (
        403,
        graph_error(230, "Requires pages_messaging permission"),
        PermissionDenied,
        Health.DEGRADED,
    ),
    (400, graph_error(10, "Pencere dışında gönderildi", subcode=2018278), NotEligible, Health.OK),
    (403, graph_error(10, "outside of allowed window", subcode=2534022), NotEligible, Health.OK),
    (400, graph_error(551, "Bu kişi şu anda müsait değil"), NotEligible, Health.OK),
    (500, graph_error(1, "Bilinmeyen bir hata oluştu"), PlatformError, Health.UNAVAILABLE),
    (400, graph_error(2, "Service temporairement indisponible"), PlatformError, Health.UNAVAILABLE),
    (400, graph_error(1200, "Geçici gönderim hatası"), PlatformError, Health.UNAVAILABLE),
    (
        400,
        graph_error(9999, "brand new error", is_transient=True),
        PlatformError,
        Health.UNAVAILABLE,
    ),
    (502, None, PlatformError, Health.UNAVAILABLE),
    (503, "<html>Service Unavailable</html>", PlatformError, Health.UNAVAILABLE),
    (400, graph_error(100, "Geçersiz parametre"), PlatformError, Health.OK),
    (400, graph_error(100, "No matching user found", subcode=2018001), NotFound, Health.OK),
]


@pytest.mark.parametrize(("status", "body", "error_type", "health"), CASES)
def test_classification_table(
    status: int, body: Any, error_type: type[Exception], health: Health
) -> None:
    info = classify_error(status, body, {})
    assert info.error_type is error_type
    assert info.health is health
    # 190 and 401 are reported only after a confirming retry.
    assert info.needs_confirmation is (error_type is AuthError)


def test_rate_limit_reads_business_usage_regain_time() -> None:
    headers = {
        "x-business-use-case-usage": '{"111": [{"type": "messenger", "call_count": 104, '
        '"total_cputime": 20, "total_time": 30, "estimated_time_to_regain_access": 12}]}',
        "x-app-usage": '{"call_count": 28, "total_time": 25, "total_cputime": 25}',
    }
    info = classify_error(400, graph_error(80006, "too many calls"), headers)
    assert info.retry_after == timedelta(minutes=12)
    assert info.transient


def test_rate_limit_reads_retry_after_header() -> None:
    info = classify_error(429, None, {"Retry-After": "30"})
    assert info.retry_after == timedelta(seconds=30)


def test_health_of_raised_errors() -> None:
    assert health_of(TransportError("timed out")) is Health.UNAVAILABLE
    assert health_of(AuthError("x", platform="messenger")) is Health.NEEDS_REAUTH
    assert health_of(PlatformError("x", platform="messenger", transient=True)) is Health.UNAVAILABLE
    assert health_of(PlatformError("x", platform="messenger", status=400)) is Health.OK
    assert health_of(NotEligible("x", platform="instagram")) is Health.OK


def test_version_normalization() -> None:
    assert normalize_version("26.0") == "v26.0"
    assert normalize_version("v25.0") == "v25.0"
    with pytest.raises(ConfigError, match=r"v26\.0"):
        normalize_version("latest")


# ---------------------------------------------------------------------- client


@pytest.fixture
def emulator() -> MetaEmulator:
    emulator = MetaEmulator(app_secret=APP_SECRET, require_appsecret_proof=True)
    emulator.add_page("111", access_token=TOKEN, name="Kahve Dükkanı")
    return emulator


@pytest.fixture
def server(emulator: MetaEmulator) -> Iterator[BackgroundServer]:
    with emulator.serve() as server:
        yield server


def client_for(server: BackgroundServer, **kwargs: Any) -> GraphClient:
    return GraphClient(TOKEN, app_secret=APP_SECRET, base_url=server.base_url, **kwargs)


async def test_token_in_header_never_in_url(
    emulator: MetaEmulator, server: BackgroundServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client = client_for(server, version="25.0")
    try:
        me = await client.get("me")
    finally:
        await client.aclose()
    assert me == {"id": "111", "name": "Kahve Dükkanı"}
    request = emulator.requests[-1]
    assert request.path == "/v25.0/me"
    assert request.authorization == f"Bearer {TOKEN}"
    assert "access_token" not in request.query
    assert request.query["appsecret_proof"] == appsecret_proof(TOKEN, APP_SECRET)
    assert TOKEN not in caplog.text
    # httpx logs the URL with the proof at INFO; the proof is an HMAC of the
    # token, useless without it. Our own log lines leave it out as well.
    own_lines = [r.getMessage() for r in caplog.records if r.name.startswith("socialinbox")]
    assert own_lines
    assert not any(appsecret_proof(TOKEN, APP_SECRET) in line for line in own_lines)
    assert client.last_usage.max_percent == 1.0
    assert TOKEN not in repr(client)


async def test_missing_proof_is_rejected(server: BackgroundServer) -> None:
    client = GraphClient(TOKEN, base_url=server.base_url)
    try:
        with pytest.raises(PlatformError) as caught:
            await client.get("me")
    finally:
        await client.aclose()
    assert caught.value.code == 100
    assert health_of(caught.value) is Health.OK


async def test_single_token_error_is_confirmed_away(
    emulator: MetaEmulator, server: BackgroundServer
) -> None:
    emulator.inject_error(190, "Oturum süresi doldu", subcode=463, times=1)
    client = client_for(server)
    try:
        me = await client.get("me")
    finally:
        await client.aclose()
    assert me["id"] == "111"
    assert len(emulator.requests) == 2


async def test_repeated_token_error_needs_reauth(
    emulator: MetaEmulator, server: BackgroundServer
) -> None:
    emulator.revoke("111")
    client = client_for(server)
    try:
        with pytest.raises(AuthError) as caught:
            await client.get("me")
    finally:
        await client.aclose()
    assert caught.value.code == 190
    assert caught.value.subcode == 460
    assert health_of(caught.value) is Health.NEEDS_REAUTH
    assert len(emulator.requests) == 2
    assert TOKEN not in str(caught.value)


async def test_throttling_with_usage_headers(
    emulator: MetaEmulator, server: BackgroundServer
) -> None:
    emulator.inject_error(
        80006,
        "(#80006) There have been too many messenger api calls to this Page account.",
        headers={
            "x-business-use-case-usage": '{"111": [{"type": "messenger", "call_count": 100, '
            '"total_cputime": 5, "total_time": 5, "estimated_time_to_regain_access": 3}]}'
        },
    )
    client = client_for(server)
    try:
        with pytest.raises(RateLimited) as caught:
            await client.get("111/conversations", {"platform": "messenger"})
    finally:
        await client.aclose()
    assert caught.value.retry_after == timedelta(minutes=3)
    assert client.last_usage.max_percent == 100.0
    assert health_of(caught.value) is Health.RATE_LIMITED


async def test_non_json_gateway_error_is_transient(
    emulator: MetaEmulator, server: BackgroundServer
) -> None:
    emulator.inject_error(None, status=502, raw_body="<html>Bad Gateway</html>")
    client = client_for(server)
    try:
        with pytest.raises(PlatformError) as caught:
            await client.get("me")
    finally:
        await client.aclose()
    assert caught.value.transient
    assert caught.value.status == 502
    assert health_of(caught.value) is Health.UNAVAILABLE


async def test_timeout_is_transport_error() -> None:
    def time_out(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("read timed out", request=request)

    client = GraphClient(TOKEN, transport=httpx.MockTransport(time_out))
    try:
        with pytest.raises(TransportError, match="timed out") as caught:
            await client.get("me")
    finally:
        await client.aclose()
    assert health_of(caught.value) is Health.UNAVAILABLE
    assert isinstance(caught.value.__cause__, httpx.ReadTimeout)


def test_empty_token_is_config_error() -> None:
    with pytest.raises(ConfigError, match="empty"):
        GraphClient("", platform=Platform.INSTAGRAM)
