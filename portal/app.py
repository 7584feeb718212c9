"""The app factory: every handler, middleware, store and error handler is wired here."""

from __future__ import annotations

from typing import Any

from litestar import Litestar, Router
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import State
from litestar.di import Provide
from litestar.exceptions import HTTPException
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template import TemplateConfig
from redis.asyncio import Redis

from portal import db, jobs
from portal.activity.handlers import ROUTERS as activity_routers
from portal.activity.handlers import activity_page
from portal.api.me import ROUTERS as me_routers
from portal.approvals.api import ROUTERS as approval_api_routers
from portal.approvals.decision_handlers import ROUTERS as decision_routers
from portal.approvals.handlers import ROUTERS as approval_routers
from portal.approvals.handlers import policies_page, queue_page
from portal.auth.handlers import ROUTERS as auth_routers
from portal.auth.middleware import PrincipalMiddleware
from portal.auth.sessions import SessionStore, cookie_name
from portal.context import current_actor
from portal.costcentres.api import ROUTERS as cost_centre_api_routers
from portal.costcentres.handlers import ROUTERS as cost_centre_routers
from portal.costcentres.handlers import cost_centres_page
from portal.dashboard.handlers import ROUTERS as dashboard_routers
from portal.dashboard.handlers import account, dashboard
from portal.error_handlers import handle_http_exception, handle_refusal, handle_unexpected
from portal.errors import Refusal
from portal.health.handlers import ROUTERS as health_routers
from portal.input_guard import screen_body
from portal.invitations.batch_api import ROUTERS as batch_api_routers
from portal.invitations.batch_handlers import ROUTERS as batch_routers
from portal.invitations.handlers import ROUTERS as invitation_routers
from portal.mail.handlers import ROUTERS as outbox_routers
from portal.money import format_money
from portal.orders.api import ROUTERS as order_api_routers
from portal.orders.handlers import ROUTERS as order_routers
from portal.orders.handlers import orders_page
from portal.pages import NavItem, with_paths
from portal.permissions.api import ROUTERS as permission_api_routers
from portal.permissions.archive_handlers import ROUTERS as role_archive_routers
from portal.permissions.guards import current_principal, public
from portal.permissions.handlers import ROUTERS as permission_routers
from portal.permissions.handlers import roles_page
from portal.permissions.model import Area, Level
from portal.permissions.principal import Principal
from portal.recovery.api import ROUTERS as recovery_api_routers
from portal.recovery.handlers import ROUTERS as recovery_routers
from portal.security_headers import security_headers
from portal.services.api import ROUTERS as service_api_routers
from portal.services.handlers import ROUTERS as service_routers
from portal.services.handlers import services_page
from portal.settings import PROJECT_ROOT, Settings
from portal.users.api import ROUTERS as user_api_routers
from portal.users.edit_handlers import ROUTERS as user_edit_routers
from portal.users.handlers import ROUTERS as user_routers
from portal.users.handlers import users_page


def _approves(principal: Principal) -> bool:
    return principal.may(Area.APPROVALS, Level.APPROVE)


def _manages_cost_centres(principal: Principal) -> bool:
    return principal.may(Area.COST_CENTRES, Level.FULL)


NAVIGATION = (
    NavItem("Dashboard", dashboard),
    NavItem("Services", services_page),
    NavItem("Orders", orders_page),
    NavItem("Approvals", queue_page, shown_to=_approves),
    NavItem("Users", users_page),
    NavItem("Roles", roles_page),
    NavItem("Approval policies", policies_page),
    NavItem("Cost centres", cost_centres_page, shown_to=_manages_cost_centres),
    NavItem("Activity log", activity_page),
    NavItem("My account", account),
)


def _configure_templates(engine: JinjaTemplateEngine) -> None:
    engine.engine.filters["money"] = format_money
    # Templates ship with the code and change only with a restart: no stat() of each template
    # file on every render.
    engine.engine.auto_reload = False


def create_app(settings: Settings) -> Litestar:
    jobs.process_broker(settings)
    # Redis carries the workers' wake-ups only: the health check looks at it, nothing else.
    redis = Redis.from_url(settings.redis_url) if settings.redis_url else None
    secure = settings.secure_cookies
    state: dict[str, Any] = {
        "settings": settings,
        "sessions": SessionStore(),
        "session_cookie": cookie_name(secure),
        "redis": redis,
    }

    async def close_redis() -> None:
        if redis is not None:
            await redis.aclose()

    app = Litestar(
        route_handlers=[
            *auth_routers,
            *dashboard_routers,
            *permission_routers,
            *permission_api_routers,
            *role_archive_routers,
            *activity_routers,
            *me_routers,
            *user_routers,
            *user_edit_routers,
            *user_api_routers,
            *invitation_routers,
            *batch_routers,
            *batch_api_routers,
            *recovery_routers,
            *recovery_api_routers,
            *outbox_routers,
            *service_routers,
            *service_api_routers,
            *order_routers,
            *order_api_routers,
            *approval_routers,
            *decision_routers,
            *approval_api_routers,
            *cost_centre_routers,
            *cost_centre_api_routers,
            *health_routers,
            create_static_files_router(
                path="/static", directories=[PROJECT_ROOT / "static"], opt=public()
            ),
        ],
        dependencies={
            "principal": Provide(current_principal, sync_to_thread=False),
            "actor": Provide(current_actor, sync_to_thread=False),
        },
        middleware=[PrincipalMiddleware(state["sessions"], state["session_cookie"])],
        csrf_config=CSRFConfig(
            secret=settings.secret_key,
            cookie_name="__Host-csrftoken" if secure else "csrftoken",
            cookie_secure=secure,
            cookie_samesite="lax",
            header_name="x-csrftoken",
            exclude=["/health", "/ready", "/static/"],
        ),
        template_config=TemplateConfig(
            directory=PROJECT_ROOT / "templates",
            engine=JinjaTemplateEngine,
            engine_callback=_configure_templates,
        ),
        openapi_config=OpenAPIConfig(
            title="Portal API",
            version="1",
            path="/schema",
            render_plugins=[JsonRenderPlugin()],
            openapi_router=Router("/schema", route_handlers=[], opt=public()),
        ),
        exception_handlers={
            Refusal: handle_refusal,
            HTTPException: handle_http_exception,
            Exception: handle_unexpected,
        },
        before_request=screen_body,
        on_startup=[db.start],
        on_shutdown=[db.stop, close_redis],
        state=State(state),
    )
    app.state.navigation = with_paths(app, NAVIGATION)
    # Outside Litestar's exception handling, so error pages and unknown paths carry them too.
    app.asgi_handler = security_headers(app.asgi_handler)
    return app
