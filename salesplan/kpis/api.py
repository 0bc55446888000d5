"""Role KPIs and bonus: the REST API under /api/v1/.

- `GET members/{id}/scorecard/?period=YYYY-MM`: a person's KPIs and bonus for a month (the
  owner sees everyone's, a head of sales their own and their teams', anyone else their own;
  others 404);
- `GET kpi-schemes/`, `GET|PUT|PATCH kpi-schemes/{id}/`: each role's scheme (weights, targets,
  payout curve) with its warnings; owners and heads of sales change them;
- `PUT members/{id}/base-bonus/`: a person's base bonus;
- `PUT members/{id}/kpi-values/`: a KPI's plan and actual typed by hand for a month;
- `GET|POST payments/{id}/bonus-recipient/`: a head of sales' deal's bonus given to a
  salesperson, and the history of that choice.

Every write calls the service the pages call (salesplan.kpis.services); a service's
ValidationError is a 400 per field in the caller's language.
"""

from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import path
from django.utils.translation import gettext
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from salesplan.access import get_scoped_or_404
from salesplan.api.mixins import OrganizationScopedMixin, expected_version
from salesplan.api.schema import error_responses
from salesplan.kpis import selectors, services
from salesplan.kpis.models import KpiScheme
from salesplan.kpis.presentation import scheme_data, scorecard_data
from salesplan.models import Membership

# --- the bodies, for the schema -----------------------------------------------------------------


class KpiLineSerializer(serializers.Serializer):
    metric = serializers.CharField(help_text="The KPI's code, e.g. turnover, retention.")
    name = serializers.CharField(help_text="Its name in the caller's language.")
    weight = serializers.DecimalField(max_digits=5, decimal_places=2, help_text="In %.")
    lower_is_better = serializers.BooleanField()
    plan = serializers.CharField(allow_null=True, help_text="The month's plan (a decimal).")
    actual = serializers.CharField(allow_null=True, help_text="The actual to date.")
    forecast = serializers.CharField(
        allow_null=True, help_text="The month's end at the current pace."
    )
    fulfilment = serializers.CharField(
        allow_null=True,
        help_text="actual ÷ plan (plan ÷ actual when lower is better), a share: 0.9 is 90 %.",
    )
    payout = serializers.CharField(help_text="The payout curve at the fulfilment, a share.")
    fulfilment_forecast = serializers.CharField(allow_null=True)
    payout_forecast = serializers.CharField()
    note = serializers.CharField(help_text="Why the KPI is not assessed (empty: it is).")


class KpiGivenDealSerializer(serializers.Serializer):
    payment = serializers.IntegerField()
    head_name = serializers.CharField()
    amount = serializers.CharField()
    gross_margin = serializers.CharField(allow_null=True)
    is_new_client = serializers.BooleanField(allow_null=True)
    chosen_at = serializers.DateTimeField()


class KpiScorecardSerializer(serializers.Serializer):
    member = serializers.IntegerField()
    member_name = serializers.CharField()
    period = serializers.CharField(help_text="YYYY-MM")
    role = serializers.CharField(
        allow_null=True, help_text="The scheme: marketer, hunter, farmer, head_of_sales."
    )
    plan = serializers.IntegerField(allow_null=True, help_text="The monthly plan read.")
    day = serializers.DateField(allow_null=True, help_text="The day of the figures read.")
    currency = serializers.CharField()
    base_bonus = serializers.CharField()
    bonus_to_date = serializers.CharField(help_text="The bonus if the month ended today.")
    bonus_forecast = serializers.CharField(help_text="The bonus at the current pace.")
    kpis = KpiLineSerializer(many=True)
    given_deals = KpiGivenDealSerializer(
        many=True, help_text="The heads of sales' deals whose bonus was given to this person."
    )
    growth = serializers.DictField(
        allow_null=True, help_text="last_year_revenue, target and growth (shares)."
    )


class KpiSchemeItemSerializer(serializers.Serializer):
    metric = serializers.CharField()
    name = serializers.CharField(read_only=True)
    weight = serializers.CharField(help_text="In %; a scheme's weights add up to 100.")
    target = serializers.CharField(
        allow_null=True,
        required=False,
        help_text="retention and growth: the plan as a share (0.6; 0.1 is +10 %).",
    )
    lower_is_better = serializers.BooleanField(read_only=True)


class KpiCurvePointSerializer(serializers.Serializer):
    fulfilment = serializers.CharField(help_text="A share: 0.8 is 80 %.")
    payout = serializers.CharField(help_text="A share of the KPI's weight of the base bonus.")


class KpiWarningSerializer(serializers.Serializer):
    code = serializers.CharField()
    severity = serializers.CharField()
    text = serializers.CharField()


class KpiSchemeSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    role = serializers.CharField(read_only=True)
    role_name = serializers.CharField(read_only=True)
    items = KpiSchemeItemSerializer(many=True, required=False)
    weights_total = serializers.CharField(read_only=True)
    payout_curve = KpiCurvePointSerializer(
        many=True,
        required=False,
        help_text="Points (fulfilment, payout): 0 below the first, linear between, flat after "
        "the last (the cap).",
    )
    warnings = KpiWarningSerializer(many=True, read_only=True)
    version = serializers.IntegerField(
        required=False,
        help_text="The version you read (or `If-Match`): a save over a newer one is refused "
        "(409). Each save adds one.",
    )
    updated_at = serializers.DateTimeField(read_only=True)


class BaseBonusSerializer(serializers.Serializer):
    member = serializers.IntegerField(read_only=True)
    amount = serializers.CharField(help_text="In the organization's currency, e.g. 50000.")


class BonusChoiceSerializer(serializers.Serializer):
    recipient = serializers.IntegerField(
        help_text="An active salesperson of the organization (their membership id)."
    )


class BonusHistorySerializer(serializers.Serializer):
    recipient = serializers.IntegerField()
    recipient_name = serializers.CharField()
    chosen_by = serializers.IntegerField(allow_null=True)
    chosen_by_name = serializers.CharField()
    chosen_at = serializers.DateTimeField()
    is_current = serializers.BooleanField()


class BonusRecipientSerializer(serializers.Serializer):
    payment = serializers.IntegerField()
    head = serializers.IntegerField(allow_null=True, help_text="The head of sales' deal's head.")
    recipient = serializers.IntegerField(allow_null=True, help_text="The latest choice.")
    history = BonusHistorySerializer(many=True, help_text="Every choice, newest first.")


# --- the views ----------------------------------------------------------------------------------

PERIOD = OpenApiParameter(
    "period",
    OpenApiTypes.STR,
    description="The month, YYYY-MM (default: this month in the organization's time zone).",
    pattern=r"^\d{4}-\d{2}$",
)


class ScorecardView(OrganizationScopedMixin, APIView):
    """A person's scorecard for a month: each KPI's plan, actual, fulfilment, weight and
    payout; the bonus if the month ended today (`bonus_to_date`) and at the current pace
    (`bonus_forecast`), read from the stored plan vs fact."""

    @extend_schema(parameters=[PERIOD], responses={200: KpiScorecardSerializer})
    def get(self, request: Request, id: int) -> Response:
        member = selectors.access_scorecard_member(self.membership, id)
        try:
            period = selectors.parse_period(
                request.query_params.get("period"), default=selectors.this_month(self.membership)
            )
        except ValueError as exc:
            raise ValidationError({"period": [_period_message()]}) from exc
        card = selectors.member_scorecard(member, period)
        return Response(scorecard_data(card))


def _period_message() -> str:
    return gettext("Send the month as YYYY-MM, e.g. 2026-12.")


class SchemeListView(OrganizationScopedMixin, APIView):
    """Every role's KPI scheme of the organization (made with the defaults on first use),
    each with its warnings."""

    @extend_schema(responses={200: KpiSchemeSerializer(many=True)})
    def get(self, request: Request) -> Response:
        schemes = services.schemes_for(organization=self.organization)
        return Response([scheme_data(scheme) for scheme in schemes])


class SchemeDetailView(OrganizationScopedMixin, APIView):
    """One role's scheme. PUT or PATCH replaces its `items` and/or its `payout_curve` (the
    weights must add up to 100 %); owners and heads of sales only."""

    def _scheme(self, id: int) -> KpiScheme:
        services.schemes_for(organization=self.organization)
        return get_scoped_or_404(
            KpiScheme.objects.prefetch_related("items"), self.organization, pk=id
        )

    @extend_schema(responses={200: KpiSchemeSerializer})
    def get(self, request: Request, id: int) -> Response:
        return Response(scheme_data(self._scheme(id)))

    def _update(self, request: Request, id: int) -> Response:
        scheme = self._scheme(id)
        if not isinstance(request.data, dict):
            raise ValidationError({"non_field_errors": [_object_message()]})
        data = request.data
        items = services.parse_items(data["items"]) if "items" in data else None
        curve = services.parse_curve(data["payout_curve"]) if "payout_curve" in data else None
        version = expected_version(request, "version")
        try:
            scheme = services.scheme_update(
                scheme=scheme, by=self.membership, items=items, curve=curve, version=version
            )
        except services.SchemeConflict as conflict:
            return Response(
                {
                    "detail": gettext(
                        "Someone saved this scheme after you opened it: nothing was changed. "
                        "Open it again."
                    ),
                    "version": conflict.current,
                },
                status=status.HTTP_409_CONFLICT,
            )
        return Response(scheme_data(scheme))

    @extend_schema(
        request=KpiSchemeSerializer,
        responses={200: KpiSchemeSerializer, **error_responses(409)},
    )
    def put(self, request: Request, id: int) -> Response:
        return self._update(request, id)

    @extend_schema(
        request=KpiSchemeSerializer,
        responses={200: KpiSchemeSerializer, **error_responses(409)},
    )
    def patch(self, request: Request, id: int) -> Response:
        return self._update(request, id)


def _object_message() -> str:
    return gettext("Send a JSON object.")


class BaseBonusView(OrganizationScopedMixin, APIView):
    """A person's base bonus: the bonus at 100 % of every KPI, per month. The owner sets
    anyone's, a head of sales their teams' members'."""

    @extend_schema(request=BaseBonusSerializer, responses={200: BaseBonusSerializer})
    def put(self, request: Request, id: int) -> Response:
        member = selectors.access_scorecard_member(self.membership, id)
        data = request.data if isinstance(request.data, dict) else {}
        bonus = services.base_bonus_set(
            member=member, amount=data.get("amount"), by=self.membership
        )
        return Response({"member": member.pk, "amount": format(bonus.amount, "f")})


class KpiValueSerializer(serializers.Serializer):
    member = serializers.IntegerField(read_only=True)
    period = serializers.CharField(help_text="The month, YYYY-MM.")
    metric = serializers.CharField(help_text="The KPI's code, e.g. nps, focus_product.")
    plan = serializers.CharField(allow_null=True, required=False, help_text="A decimal.")
    actual = serializers.CharField(
        allow_null=True,
        required=False,
        help_text="A decimal (a KPI read from the sales plan takes only its plan).",
    )


class KpiValueView(OrganizationScopedMixin, APIView):
    """A KPI's plan and actual typed by hand for a person and a month: a focus product, NPS,
    or the plan of a KPI the sales plan has none for. Both empty removes it. The owner types
    anyone's, a head of sales their teams' members'."""

    @extend_schema(request=KpiValueSerializer, responses={200: KpiValueSerializer})
    def put(self, request: Request, id: int) -> Response:
        member = selectors.access_scorecard_member(self.membership, id)
        data = request.data if isinstance(request.data, dict) else {}
        try:
            period = selectors.parse_period(data.get("period"), default=date.min)
        except (ValueError, TypeError) as exc:
            raise ValidationError({"period": [_period_message()]}) from exc
        if period == date.min:
            raise ValidationError({"period": [_period_message()]})
        metric = data.get("metric")
        value = services.manual_value_set(
            member=member,
            period=period,
            metric=metric if isinstance(metric, str) else "",
            plan=data.get("plan"),
            actual=data.get("actual"),
            by=self.membership,
        )
        return Response(
            {
                "member": member.pk,
                "period": period.strftime("%Y-%m"),
                "metric": metric,
                "plan": None if value is None or value.plan is None else format(value.plan, "f"),
                "actual": None
                if value is None or value.actual is None
                else format(value.actual, "f"),
            }
        )


def _recipient_body(payment_id: int, member: Membership) -> dict[str, Any]:
    history = list(selectors.bonus_history(payment_id, member.organization))
    current = next((row for row in history if row.is_current), None)
    return {
        "payment": payment_id,
        "head": history[0].head_id if history else None,
        "recipient": current.recipient_id if current else None,
        "history": [
            {
                "recipient": row.recipient_id,
                "recipient_name": row.recipient.display_name,
                "chosen_by": row.chosen_by_id,
                "chosen_by_name": row.chosen_by.display_name if row.chosen_by else "",
                "chosen_at": row.chosen_at,
                "is_current": row.is_current,
            }
            for row in history
        ],
    }


class BonusRecipientView(OrganizationScopedMixin, APIView):
    """A head of sales' deal (a payment credited to a head of sales): its bonus goes to the
    salesperson they choose. The deal stays the department's in plan vs fact and counts in
    the chosen salesperson's scorecard. Every choice is kept (who, when); the latest wins."""

    @extend_schema(responses={200: BonusRecipientSerializer})
    def get(self, request: Request, id: int) -> Response:
        if not selectors.may_edit_schemes(self.membership):  # owners and heads of sales
            raise PermissionDenied(gettext("Your role does not allow this action."))
        payment = services.payment_for(self.membership, id)
        body = _recipient_body(payment.pk, self.membership)
        head = services.head_of_payment(payment)
        body["head"] = head.pk if head else None
        return Response(body)

    @extend_schema(request=BonusChoiceSerializer, responses={200: BonusRecipientSerializer})
    def post(self, request: Request, id: int) -> Response:
        payment = services.payment_for(self.membership, id)
        data = request.data if isinstance(request.data, dict) else {}
        services.bonus_recipient_choose(
            payment=payment, recipient_id=data.get("recipient"), by=self.membership
        )
        return Response(_recipient_body(payment.pk, self.membership))


urlpatterns = [
    path("members/<int:id>/scorecard/", ScorecardView.as_view(), name="api_member_scorecard"),
    path("members/<int:id>/base-bonus/", BaseBonusView.as_view(), name="api_member_base_bonus"),
    path("members/<int:id>/kpi-values/", KpiValueView.as_view(), name="api_member_kpi_values"),
    path("kpi-schemes/", SchemeListView.as_view(), name="api_kpi_schemes"),
    path("kpi-schemes/<int:id>/", SchemeDetailView.as_view(), name="api_kpi_scheme"),
    path(
        "payments/<int:id>/bonus-recipient/",
        BonusRecipientView.as_view(),
        name="api_payment_bonus_recipient",
    ),
]
