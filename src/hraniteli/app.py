"""create_app(settings): routers, CORS, error translation, lifespan."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, Response
from fastapi_offline import FastAPIOffline
from starlette.exceptions import HTTPException as StarletteHTTPException

from hraniteli import __version__
from hraniteli.api.compat import applications as compat_applications
from hraniteli.api.compat import bookings as compat_bookings
from hraniteli.api.compat import cache_service
from hraniteli.api.compat import lifecycle as compat_lifecycle
from hraniteli.api.compat import matching as compat_matching
from hraniteli.api.compat import schedule as compat_schedule
from hraniteli.api.deps import AppContext
from hraniteli.api.faults import RETRY_AFTER_SECONDS, DatabaseFaults, internal_error, log_unexpected
from hraniteli.api.v1 import applications as v1_applications
from hraniteli.api.v1 import lifecycle as v1_lifecycle
from hraniteli.api.v1 import psychologists as v1_psychologists
from hraniteli.api.v1 import schedule as v1_schedule
from hraniteli.bot import webhook as bot_webhook
from hraniteli.clock import Clock, utc_now
from hraniteli.config import Settings
from hraniteli.db import Database
from hraniteli.errors import DomainError, TooManyRequests, error_body
from hraniteli.kit.accesslog import AccessLogMiddleware
from hraniteli.kit.bodylimit import BodyLimitMiddleware
from hraniteli.kit.ratelimit import RateLimiter
from hraniteli.kit.rendercache import RenderCache
from hraniteli.schedule.service import SchedulePolicy
from hraniteli.web import landing


def create_app(settings: Settings, *, clock: Clock = utc_now, database: Database | None = None) -> FastAPI:
    db = database or Database.from_settings(settings)
    ctx = AppContext(
        settings=settings,
        database=db,
        clock=clock,
        policy=SchedulePolicy(
            closed_weekdays=tuple(settings.schedule_closed_weekdays),
            slot_duration_minutes=settings.slot_duration_minutes,
        ),
        render_cache=RenderCache(
            settings.schedule_cache_size,
            trust_seconds=settings.schedule_cache_trust_seconds,
            generation=lambda: db.write_generation,
        ),
        limiter=RateLimiter(settings.rate_limit_storage, settings.rate_limits),
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if settings.telegram_bot_token is not None:
            from hraniteli.notifications.sender import preload_telegram

            preload_telegram()  # before serving: loading it later would stall the loop seconds
        # Everything imported so far lives as long as the process: keep it out of the
        # collector's generations, so full collections during big responses stay cheap.
        gc.collect()
        gc.freeze()
        in_process = settings.worker_in_process
        background = None
        if in_process if in_process is not None else settings.is_sqlite:
            from hraniteli.lifecycle.service import BackgroundWork

            background = BackgroundWork.from_settings(settings, db, clock=clock)
            background.start()
        yield
        if background is not None:
            await background.stop()
        if database is None:
            await db.dispose()

    # /docs and /redoc with swagger-ui and redoc served from the installed package: no CDN.
    app = FastAPIOffline(
        title="Hraniteli",
        version=__version__,
        description="Online psychology practice: psychologists, schedules, bookings (clean API) "
        "and the legacy webhook paths the existing front-ends call.",
        lifespan=lifespan,
    )
    app.state.ctx = ctx
    # Middleware added later wraps what was added before: from the outside in, the access log,
    # CORS (so browsers can read every answer), the body limit, then the database faults.
    _install_error_handlers(app, settings)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(
        CORSMiddleware, allow_origins=["*"], allow_methods=["*"], allow_headers=["*"], max_age=86400
    )
    if settings.access_log:
        app.add_middleware(AccessLogMiddleware)

    @app.get("/healthz", tags=["ops"])
    async def healthz() -> dict[str, str]:
        """Liveness: the process answers (the database is not asked)."""
        return {"status": "ok", "version": __version__}

    @app.get("/readyz", tags=["ops"])
    async def readyz() -> Response:
        """Readiness: the database answers `SELECT 1` within the connect timeout."""
        problem = await db.check()
        if problem is None:
            return JSONResponse({"status": "ready", "database": "ok"})
        return JSONResponse(
            {"status": "unavailable", "database": problem},
            status_code=503,
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )

    for module in (
        v1_psychologists,
        v1_schedule,
        v1_applications,
        v1_lifecycle,
        compat_schedule,
        compat_bookings,
        compat_applications,
        compat_matching,
        compat_lifecycle,
        cache_service,
        bot_webhook,
        landing,
    ):
        app.include_router(module.router)
    return app


def _install_error_handlers(app: FastAPI, settings: Settings) -> None:
    # Database failures (and anything unexpected) are answered by this middleware, outside
    # the handlers below: a request that met a deadlock must reach it to run again.
    app.add_middleware(DatabaseFaults, max_attempts=settings.database_max_attempts)

    @app.exception_handler(Exception)
    async def unexpected_error(request: Request, exc: Exception) -> Response:
        """Last resort, outside every middleware: still the envelope, never plain text."""
        log_unexpected(exc, request.scope)
        return internal_error()

    @app.exception_handler(DomainError)
    async def domain_error(_: Request, exc: DomainError) -> Response:
        headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, TooManyRequests) else None
        return JSONResponse(
            error_body(exc.code, exc.message, exc.details), status_code=exc.status_code, headers=headers
        )

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> Response:
        details = [
            {
                "field": ".".join(str(part) for part in error["loc"][1:]) or str(error["loc"][0]),
                "message": error["msg"],
            }
            for error in exc.errors()
        ]
        message = "the request is not valid"
        if any(error.get("type") == "json_invalid" for error in exc.errors()):
            message = "the request body is not valid JSON"
        return JSONResponse(error_body("VALIDATION_ERROR", message, details), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> Response:
        codes = {
            404: "NOT_FOUND",
            405: "METHOD_NOT_ALLOWED",
            401: "UNAUTHORIZED",
            403: "FORBIDDEN",
        }
        return JSONResponse(
            error_body(codes.get(exc.status_code, "HTTP_ERROR"), str(exc.detail)),
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )


def app_from_env() -> FastAPI:
    """uvicorn's factory: settings from the environment."""
    from hraniteli.config import load_settings

    return create_app(load_settings())
