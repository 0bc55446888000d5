from salesplan.models.organizations import (
    CURRENCY_CHOICES,
    Invitation,
    Membership,
    Organization,
    Role,
    SalespersonKind,
    Team,
)
from salesplan.models.plans import (
    CalendarDay,
    PeriodKind,
    PlanMember,
    PlanProduct,
    PlanStatus,
    PlanVersion,
    Product,
    SalesPlan,
)

__all__ = [
    "CURRENCY_CHOICES",
    "CalendarDay",
    "Invitation",
    "Membership",
    "Organization",
    "PeriodKind",
    "PlanMember",
    "PlanProduct",
    "PlanStatus",
    "PlanVersion",
    "Product",
    "Role",
    "SalesPlan",
    "SalespersonKind",
    "Team",
]
