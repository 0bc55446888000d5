"""Forms of the plan pages: they read what a person typed (the Russian way too) and turn it into
the keyword arguments of the plan services. They decide nothing about plans: the services and
the planning engine validate, and their errors are put back next to the field they concern."""

import re
from datetime import date
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from funnel.models import Funnel
from salesplan.access import led_team_ids, scoped
from salesplan.fields import (
    DateField,
    LocalizedDecimalField,
    MoneyField,
    date_widget,
    share_percent_field,
)
from salesplan.models import (
    Membership,
    PeriodKind,
    PlanStatus,
    Product,
    Role,
    SalesPlan,
    Team,
)
from salesplan.planning import History
from salesplan.planning.calendar import month_starts
from salesplan.planning.calendar import period_end as period_end_of
from salesplan.planning.limits import period_months, period_too_long
from salesplan.planning.whatif import equal_shares
from salesplan.plans.forms.layout import MAX_SEASON_MONTHS, PlanFormLayout
from salesplan.plans.snapshot import PLAN_INPUT_FIELDS, MixItem, TeamShare, history_from_json

# No one makes more calls than this in a day; also keeps the number inside the database column.
MAX_DAILY_NORM = 10_000


def _month_index(first: date, month: date) -> int:
    return (month.year - first.year) * 12 + month.month - first.month


def _plannable_teams(teams: Any, member: Membership | None) -> Any:
    """The teams a member may plan for (salesplan.access.may_plan_for): the owner every team,
    a head of sales the teams they lead; the list offers only these (the views still check
    what is sent)."""
    if member is None or member.role == Role.OWNER:
        return teams
    return teams.filter(pk__in=led_team_ids(member))


# --- the plan form ---------------------------------------------------------------------------


class PlanForm(PlanFormLayout, forms.Form):
    """Everything plan_create / plan_update take, in the words and units of a head of sales.

    Extra fields are made per organization: ``share_<membership id>`` (each active
    salesperson's share, %), ``mix_<product id>`` (share of deals, %) and ``season_<n>`` (the
    weight of the n-th month of a quarter or a year).
    """

    funnel = forms.ModelChoiceField(queryset=Funnel.objects.none(), label=_("Funnel"))
    name = forms.CharField(max_length=200, label=_("Name"))
    sales_team = forms.ModelChoiceField(
        queryset=Team.objects.none(),
        label=_("Team"),
        required=False,
        empty_label=_("The whole department"),
        help_text=_("Its head of sales may edit the plan and its pie."),
    )
    status = forms.ChoiceField(choices=PlanStatus.choices, label=_("Status"))
    period_kind = forms.ChoiceField(choices=PeriodKind.choices, label=_("Period"))
    period_start = DateField(label=_("Period start"), widget=date_widget())
    period_end = DateField(
        label=_("Period end"),
        required=False,
        widget=date_widget(),
        help_text=_("Leave empty for the end of the month, quarter or year."),
    )
    revenue_target = MoneyField(label=_("Revenue target"))
    average_check = MoneyField(
        label=_("Average check"),
        required=False,
        help_text=_("Or leave empty and give a product mix below."),
    )
    cost_per_lead = MoneyField(label=_("Cost per lead"), required=False)
    cost_per_target_lead = MoneyField(label=_("Cost per target lead"), required=False)
    gross_margin_target = MoneyField(label=_("Gross margin target"), required=False)
    calls_per_lead = LocalizedDecimalField(
        label=_("Calls per lead"),
        required=False,
        max_digits=6,
        decimal_places=2,
        min_value=Decimal(0),
    )
    max_calls_per_day = forms.IntegerField(
        label=_("Max calls per salesperson per day"),
        required=False,
        min_value=1,
        max_value=MAX_DAILY_NORM,
    )
    max_meetings_per_day = forms.IntegerField(
        label=_("Max key-stage meetings per salesperson per day"),
        required=False,
        min_value=1,
        max_value=MAX_DAILY_NORM,
    )
    tolerance = LocalizedDecimalField(
        label=_("Slip tolerance, %"),
        required=False,
        max_digits=5,
        decimal_places=2,
        min_value=Decimal(0),
        max_value=Decimal(100),
        help_text=_(
            "A metric counts as slipped when it is behind its plan-to-date by more than this "
            "many percent (10 if empty)."
        ),
    )
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    # Fields that go to the services as they are.
    # (seasonality is typed month by month: see _seasonality)
    PLAN_FIELDS = tuple(name for name in PLAN_INPUT_FIELDS if name != "seasonality")
    SECTION_LABELS = {
        "team": _("Team"),
        "product_mix": _("Product mix"),
        "seasonality": _("Seasonality"),
    }

    def __init__(
        self,
        *args: Any,
        organization: Any,
        plan: SalesPlan | None = None,
        preview: bool = False,
        member: Membership | None = None,
        **kwargs: Any,
    ) -> None:
        self.organization = organization
        self.plan = plan
        self.section_errors: dict[str, list[str]] = {}
        kwargs.setdefault("initial", self._initial_of(plan))
        super().__init__(*args, **kwargs)
        funnels = scoped(Funnel, organization)
        self.fields["funnel"].queryset = funnels
        self.fields["sales_team"].queryset = _plannable_teams(
            scoped(Team, organization).order_by("name"), member
        )
        self.fields["sales_team"].error_messages["invalid_choice"] = _(
            "Choose one of the teams you may plan for."
        )
        if plan is None and not self.is_bound:
            only = list(funnels.values_list("pk", flat=True)[:2])
            if len(only) == 1:  # most teams have one funnel: choose it for them
                self.initial.setdefault("funnel", only[0])
        if preview:  # a preview needs numbers, not a name
            self.fields["name"].required = False
        self.salespeople = list(
            scoped(Membership, organization)
            .filter(role=Role.SALESPERSON, is_active=True)
            .select_related("user")
            .order_by("user__first_name", "user__last_name", "id")
        )
        self.products = list(scoped(Product, organization).filter(is_active=True))
        current_team = {m.membership_id: m.share for m in plan.members.all()} if plan else None
        current_mix = {p.product_id: p.share for p in plan.product_mix.all()} if plan else {}
        equal = dict(zip(self.salespeople, equal_shares(len(self.salespeople)), strict=True))
        for person in self.salespeople:
            field = share_percent_field(person.display_name)
            field.initial = equal[person] if current_team is None else current_team.get(person.pk)
            self.fields[f"share_{person.pk}"] = field
        for product in self.products:
            field = share_percent_field(product.name)
            field.initial = current_mix.get(product.pk)
            self.fields[f"mix_{product.pk}"] = field
        weights = (plan.seasonality or {}) if plan else {}
        season_months = self._season_months_initial(plan)
        for index in range(MAX_SEASON_MONTHS):
            field = LocalizedDecimalField(
                required=False,
                min_value=Decimal(0),
                max_digits=9,
                decimal_places=4,
                label=_("Month %(n)s") % {"n": index + 1},
            )
            if index < len(season_months):
                weight = weights.get(season_months[index].isoformat())
                field.initial = Decimal(str(weight)) if weight is not None else None
            self.fields[f"season_{index}"] = field

    @staticmethod
    def _initial_of(plan: SalesPlan | None) -> dict[str, Any]:
        if plan is None:
            today = timezone.localdate()
            return {
                "period_kind": PeriodKind.MONTH,
                "status": PlanStatus.DRAFT,
                "period_start": date(today.year, today.month, 1),
            }
        initial = {name: getattr(plan, name) for name in PlanForm.PLAN_FIELDS}
        initial["funnel"] = plan.funnel_id
        initial["sales_team"] = plan.sales_team_id
        initial["version"] = plan.version
        return initial

    @staticmethod
    def _season_months_initial(plan: SalesPlan | None) -> list[date]:
        if plan is None:
            return []
        return month_starts(plan.period_start, plan.period_end)

    # -- cleaning --------------------------------------------------------------------------

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, kind = data.get("period_start"), data.get("period_kind")
        if start and kind and not data.get("period_end"):
            data["period_end"] = period_end_of(kind, start)
        if "tolerance" in data and data["tolerance"] is None:
            data["tolerance"] = SalesPlan._meta.get_field("tolerance").default
        return data

    def season_months(self) -> list[date]:
        """The first days of the period's months (empty until the period is known, and for a
        period over the limit: the engine refuses it without counting its months)."""
        start, end = self.cleaned_data.get("period_start"), self.cleaned_data.get("period_end")
        if not start or not end or end < start:
            return []
        if period_too_long(period_months(start.year, start.month, end.year, end.month)):
            return []
        return month_starts(start, end)[:MAX_SEASON_MONTHS]

    def _seasonality(self) -> dict[str, str] | None:
        """Weights by month for a quarter or a year; none typed means "by working days"."""
        if self.cleaned_data.get("period_kind") == PeriodKind.MONTH:
            return None
        weights = {
            month.isoformat(): self.cleaned_data.get(f"season_{index}")
            for index, month in enumerate(self.season_months())
        }
        if all(weight is None for weight in weights.values()):
            return None
        # Blank months are left out: the engine names each of them.
        return {month: format(w, "f") for month, w in weights.items() if w is not None}

    def team(self) -> list[TeamShare]:
        """Salespeople with a share above 0, in the order they are listed."""
        self._team_fields = []
        team = []
        for person in self.salespeople:
            share = self.cleaned_data.get(f"share_{person.pk}")
            if share:
                team.append(TeamShare(person, share))
                self._team_fields.append(f"share_{person.pk}")
        return team

    def product_mix(self) -> list[MixItem]:
        self._mix_fields = []
        mix = []
        for product in self.products:
            share = self.cleaned_data.get(f"mix_{product.pk}")
            if share:
                mix.append(MixItem(product, share=share))
                self._mix_fields.append(f"mix_{product.pk}")
        return mix

    def service_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of plan_create / plan_update / plan_preview."""
        kwargs = {name: self.cleaned_data.get(name) for name in self.PLAN_FIELDS}
        kwargs["name"] = kwargs["name"] or ""
        kwargs["seasonality"] = self._seasonality()
        kwargs["funnel"] = self.cleaned_data["funnel"]
        kwargs["sales_team"] = self.cleaned_data.get("sales_team")
        kwargs["team"] = self.team()
        kwargs["product_mix"] = self.product_mix()
        return kwargs

    # -- errors from the services ------------------------------------------------------------

    def add_service_errors(self, error: ValidationError, *, summary: bool = True) -> None:
        """Put a service's ValidationError ("team[0].membership", "norms.max_calls_per_day",
        "seasonality[2027-02]", ...) next to the field it concerns."""
        messages = error.message_dict if hasattr(error, "error_dict") else {None: error.messages}
        for key, texts in messages.items():
            target = self._field_for(key)
            if target in self.SECTION_LABELS:
                self.section_errors.setdefault(target, []).extend(texts)
            else:
                self.add_error(target, list(texts))
        if summary and any(key not in ("__all__", None) for key in messages):
            self.add_error(None, _("Please correct the errors below."))

    def _field_for(self, key: str | None) -> str | None:
        if key is None or key == "__all__":
            return None
        if key.startswith("norms."):
            key = key.removeprefix("norms.")
        if key.startswith("stages"):  # the stages come with the funnel
            return "funnel"
        if key in self.fields:
            return key
        for section, names in (
            ("team", getattr(self, "_team_fields", [])),
            ("product_mix", getattr(self, "_mix_fields", [])),
        ):
            match = re.fullmatch(rf"{section}\[(\d+)\](\..+)?", key)
            if match:
                index = int(match.group(1))
                return names[index] if index < len(names) else section
            if key == section:
                return section
        match = re.fullmatch(r"seasonality\[(\d{4})-(\d{2})\]", key)
        if match:
            months = self.season_months()
            wanted = date(int(match.group(1)), int(match.group(2)), 1)
            if months:
                index = _month_index(months[0], wanted)
                if 0 <= index < MAX_SEASON_MONTHS:
                    return f"season_{index}"
            return "seasonality"
        if key.startswith("seasonality"):
            return "seasonality"
        return None

    def problems(self) -> list[tuple[str, str]]:
        """Every error as (where, what), for the preview panel."""
        found = [("", str(text)) for text in self.non_field_errors()]
        for name, errors in self.errors.items():
            if name == "__all__":
                continue
            label = self.fields[name].label if name in self.fields else name
            found += [(str(label), str(text)) for text in errors]
        for section, texts in self.section_errors.items():
            found += [(str(self.SECTION_LABELS[section]), str(text)) for text in texts]
        return found

    def stored_history(self) -> History | None:
        """The history stored with the plan being edited, while its funnel, team and first
        month stay the same: the preview then judges the draft as a save would. A new plan's
        preview has none (its history is read from the actuals when it is saved)."""
        plan, data = self.plan, self.cleaned_data
        if plan is None or not data.get("funnel") or not data.get("period_start"):
            return None
        team = data.get("sales_team")
        if (
            data["funnel"].pk != plan.funnel_id
            or (team.pk if team else None) != plan.sales_team_id
            or data["period_start"].replace(day=1) != plan.period_start.replace(day=1)
        ):
            return None
        return history_from_json(plan.history)

    def is_ready_for_preview(self) -> bool:
        """The preview needs at least a funnel, a period start and a revenue target."""
        return all(self.data.get(name) for name in ("funnel", "period_start", "revenue_target"))
