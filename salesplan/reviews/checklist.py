"""The head of sales' functions, ticked each week: one list with stable keys.

Merged from the seeds: the classic five of a head of sales (seed 004: планирование,
организация, обучение, контроль, мотивация) and the eight of seed 003 (отслеживать метрики,
планировать раз в неделю, обучать, автоматизировать и регламентировать, нанимать и увольнять,
выстраивать отношения с другими службами, продавать, операционная работа). "Plan" and "train"
appear in both lists and are one item each, so there are eleven. The keys are stored in the
reviews and named by the API: never rename one (add a new one instead).

The wording was written in Russian first, from the seeds; the English msgids are its
translation (the Russian catalogue gives it back)."""

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Function:
    key: str
    title: Promise
    hint: Promise  # one line: what counts as done this week


FUNCTIONS: tuple[Function, ...] = (
    Function(
        "track_metrics",
        _("Track the metrics"),
        _("Looked at the department's figures: plan vs fact, slips, conversions."),
    ),
    Function(
        "plan",
        _("Plan the week"),
        _(
            "Put everything aside once a week and worked out the next steps: the plan broken "
            "down into calls, meetings and deals."
        ),
    ),
    Function(
        "organise",
        _("Organise"),
        _(
            "Decided what must be done and who does it; agreed with the owner on the "
            "resources the plan needs."
        ),
    ),
    Function(
        "train",
        _("Train the team"),
        _(
            "Held a practice session or a call review: showed how to and how not to, the "
            "team practised a skill."
        ),
    ),
    Function(
        "control",
        _("Control"),
        _(
            "Checked the daily and weekly plans, overdue tasks and how the CRM is kept; "
            "started, changed or stopped something."
        ),
    ),
    Function(
        "motivate",
        _("Motivate"),
        _("Thought about why people want to work with you: an idea to follow, praise, support."),
    ),
    Function(
        "automate",
        _("Automate and write the rules down"),
        _(
            "Described or improved a process, a template or a rule (a follow-up template, "
            "how an instalment is approved)."
        ),
    ),
    Function(
        "hire",
        _("Hire and fire"),
        _("Interviews, a newcomer's start or probation, a dismissal."),
    ),
    Function(
        "departments",
        _("Work with other departments"),
        _(
            "Proposed, listened and agreed with marketing, IT, accounting or lawyers on "
            "working together."
        ),
    ),
    Function(
        "sell",
        _("Sell a little"),
        _(
            "Was at meetings or on calls and helped with important deals, but did not sell "
            "instead of the salespeople."
        ),
    ),
    Function(
        "operational",
        _("Handle the operational"),
        _(
            "Signed leave requests, acts and invoices, sorted out the day-to-day, without "
            "letting it eat the week."
        ),
    ),
)

FUNCTION_KEYS: tuple[str, ...] = tuple(function.key for function in FUNCTIONS)
BY_KEY: dict[str, Function] = {function.key: function for function in FUNCTIONS}
