"""The piccolo app: every table of the portal, and the migrations under /migrations."""

from piccolo.conf.apps import AppConfig

from portal.activity.tables import ActivityEvent
from portal.approvals.tables import ApprovalEligibility, ApprovalPolicy
from portal.auth.tables import UserSession
from portal.costcentres.tables import CostCentre
from portal.invitations.tables import Invitation, InvitationBatch, InvitationBatchRow
from portal.mail.tables import OutboundEmail
from portal.orders.tables import Order, OrderDecision, OrderEvent
from portal.organisations.tables import Organisation
from portal.periodic.tables import ScheduledJob
from portal.permissions.tables import PermissionPolicy, PolicyGrant, Role, RolePolicy, UserRole
from portal.recovery.tables import PasswordReset
from portal.services.tables import Service
from portal.settings import PROJECT_ROOT
from portal.users.tables import User, UserOverride

TABLES = [
    Organisation,
    User,
    UserOverride,
    UserSession,
    PermissionPolicy,
    PolicyGrant,
    Role,
    RolePolicy,
    UserRole,
    ActivityEvent,
    Invitation,
    OutboundEmail,
    ScheduledJob,
    PasswordReset,
    InvitationBatch,
    InvitationBatchRow,
    Service,
    ApprovalPolicy,
    CostCentre,
    Order,
    OrderDecision,
    OrderEvent,
    ApprovalEligibility,
]

APP_CONFIG = AppConfig(
    app_name="portal",
    migrations_folder_path=str(PROJECT_ROOT / "migrations"),
    table_classes=TABLES,
    migration_dependencies=[],
    commands=[],
)
