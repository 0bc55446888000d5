from salesplan.models.organizations import (
    CURRENCY_CHOICES,
    Invitation,
    Membership,
    Organization,
    Role,
    SalespersonKind,
    Team,
)

__all__ = [
    "CURRENCY_CHOICES",
    "Invitation",
    "Membership",
    "Organization",
    "Role",
    "SalespersonKind",
    "Team",
]
