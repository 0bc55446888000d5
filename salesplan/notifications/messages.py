"""What a notification says, in a given language. The payload is data (stored once); the words
are made when the inbox shows it or a channel sends it, so each reader gets their language."""

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext

from metrics.catalog import CATALOG
from salesplan.formatting import format_money, format_number
from salesplan.models import Notification, NotificationKind


@dataclass(frozen=True, slots=True)
class Message:
    subject: str
    text: str


def language_or_default(language: str | None) -> str:
    codes = {code for code, _name in settings.LANGUAGES}
    return language if language in codes else settings.LANGUAGE_CODE


def metric_label(kind: str, name: str) -> str:
    """As PlanMetric.display_name, in the active language."""
    label = gettext(CATALOG[kind].label) if kind in CATALOG else name
    if kind in ("stage_volume", "stage_conversion"):
        return f"{label}: {name}"
    return label


def _value(value: str | None, unit: str, currency: str, language: str) -> str:
    if value in (None, ""):
        return "—"
    amount = abs(Decimal(value))
    if unit == "money":
        return format_money(amount, currency, language)
    places = 0 if amount == amount.to_integral_value() else 2
    text = format_number(amount, language, places)
    return f"{text} pp" if unit == "percent" and language.startswith("en") else text


def _percent(value: str | None, language: str) -> str:
    if value in (None, ""):
        return "—"
    text = format_number(abs(Decimal(value)), language, 1)
    return f"{text}%" if language.startswith("en") else f"{text}\u00a0%"


def slip_line(slip: dict[str, Any], language: str) -> str:
    """One slip in one line: whose metric, in which plan, how far behind, since when."""
    metric = metric_label(slip["metric_kind"], slip["metric_name"])
    who = slip.get("owner_name") or gettext("nobody on the pie")
    if slip.get("personal"):
        who = gettext("%(name)s (personal)") % {"name": who}
    return gettext(
        "%(metric)s — %(who)s, plan “%(plan)s”: behind by %(gap)s (%(gap_pct)s) since %(since)s"
    ) % {
        "metric": metric,
        "who": who,
        "plan": slip["plan_name"],
        "gap": _value(slip.get("gap"), slip.get("unit", "count"), slip["currency"], language),
        "gap_pct": _percent(slip.get("gap_pct"), language),
        "since": slip["since"],
    }


def _slip_opened(payload: dict[str, Any], language: str) -> Message:
    metric = metric_label(payload["metric_kind"], payload["metric_name"])
    subject = gettext("Slipped: %(metric)s in plan “%(plan)s”") % {
        "metric": metric,
        "plan": payload["plan_name"],
    }
    lines = [slip_line(payload, language)]
    if payload.get("attributed_revenue") not in (None, ""):
        lines.append(
            gettext("Its part of the revenue gap: %(amount)s.")
            % {
                "amount": format_money(
                    Decimal(payload["attributed_revenue"]), payload["currency"], language
                )
            }
        )
    return Message(subject, "\n".join(lines))


def _digest(payload: dict[str, Any], language: str) -> Message:
    subject = gettext("Salesplan daily digest for %(day)s") % {"day": payload["day"]}
    lines = [gettext("Slipped yesterday: %(count)d") % {"count": len(payload["opened"])}]
    lines += [f"• {slip_line(slip, language)}" for slip in payload["opened"]]
    lines.append(gettext("Recovered yesterday: %(count)d") % {"count": len(payload["recovered"])})
    lines += [f"• {slip_line(slip, language)}" for slip in payload["recovered"]]
    if payload["forecasts"]:
        lines.append(gettext("Revenue forecast for the period:"))
        for item in payload["forecasts"]:
            lines.append(
                "• "
                + gettext("“%(plan)s”: %(forecast)s of %(planned)s planned")
                % {
                    "plan": item["plan_name"],
                    "forecast": format_money(item["forecast"], item["currency"], language),
                    "planned": format_money(item["planned"], item["currency"], language),
                }
            )
    return Message(subject, "\n".join(lines))


def render(notification: Notification, language: str | None = None) -> Message:
    """The notification's subject and text in `language` (the active one by default)."""
    with translation.override(language or translation.get_language() or settings.LANGUAGE_CODE):
        lang = translation.get_language() or settings.LANGUAGE_CODE
        if notification.kind == NotificationKind.SLIP_OPENED:
            return _slip_opened(notification.payload, lang)
        return _digest(notification.payload, lang)
