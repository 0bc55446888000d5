"""Notifications (issue 11): slips and the daily digest told to the people who own them, in
the in-app inbox, by e-mail, in Telegram through the organization's own bot, and to the
organization's own systems by a signed webhook. Sits above the apps (it reads metrics' slips
and snapshots) and below the plan orchestration (salesplan.plans.slips calls it)."""
