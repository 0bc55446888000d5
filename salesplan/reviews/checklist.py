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
    # Отслеживать метрики — смотреть цифры отдела: план-факт, отставания, конверсии.
    Function(
        "track_metrics",
        _("Track the metrics"),
        _("Look at the department's figures: plan vs fact, slips, conversions."),
    ),
    # Планировать неделю — раз в неделю отложить всё и просчитать следующие шаги.
    Function(
        "plan",
        _("Plan the week"),
        _(
            "Once a week, put everything aside and work out the next steps: break the plan "
            "down into leads, calls, meetings and deals."
        ),
    ),
    # Организовывать — что должно быть сделано и кто это сделает; ресурсы у собственника.
    Function(
        "organise",
        _("Organise"),
        _(
            "Decide what must be done and who does it; agree with the owner on the resources "
            "the plan needs."
        ),
    ),
    # Обучать — тренировки: показать, как надо и как не надо, отработать на практике.
    Function(
        "train",
        _("Train the team"),
        _(
            "Hold a practice session: show how to and how not to, practise a skill, share "
            "experience."
        ),
    ),
    # Контролировать — планы дня и недели, просроченные задачи, работа в CRM.
    Function(
        "control",
        _("Control"),
        _(
            "Check the daily and weekly plans, overdue tasks and how the CRM is kept; start, "
            "change or stop something."
        ),
    ),
    # Мотивировать — как быть лидером, с которым хотят работать (seed 004).
    Function(
        "motivate",
        _("Motivate"),
        _(
            "Think about how to be a leader people want to work with: an idea to follow, "
            "recognition, support."
        ),
    ),
    # Автоматизировать и регламентировать — процессы, шаблоны, правила.
    Function(
        "automate",
        _("Automate and write the rules down"),
        _(
            "Describe or improve a process, a template or a rule (a follow-up template, how an "
            "instalment is approved)."
        ),
    ),
    # Нанимать и увольнять — собеседования, испытательный срок, увольнение.
    Function(
        "hire",
        _("Hire and fire"),
        _("Interviews, a newcomer's start and probation, a dismissal."),
    ),
    # Выстраивать отношения с другими службами — маркетинг, ИТ, бухгалтерия, юристы.
    Function(
        "departments",
        _("Work with other departments"),
        _("Propose, listen and agree with marketing, IT, accounting and lawyers."),
    ),
    # Немного продавать — встречи, звонки, важные сделки, но не вместо менеджеров.
    Function(
        "sell",
        _("Sell a little"),
        _(
            "Be at meetings, make calls, help with important deals, but do not sell instead "
            "of the salespeople."
        ),
    ),
    # Операционные дела — отпуска, акты, накладные; не дать им съесть неделю.
    Function(
        "operational",
        _("Day-to-day operations"),
        _(
            "Sign leave requests, acts and invoices, sort out the day-to-day, without letting "
            "it eat the week."
        ),
    ),
)

FUNCTION_KEYS: tuple[str, ...] = tuple(function.key for function in FUNCTIONS)
BY_KEY: dict[str, Function] = {function.key: function for function in FUNCTIONS}
