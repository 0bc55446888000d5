"""What the kernel announces to the layers above it (it never calls them).

The plans layer listens (`salesplan/plans/receivers.py`): a plan follows the products in its
mix. The apps announce the same way (`funnel/signals.py`).
"""

from django.dispatch import Signal

# A product's price or margin changed; kwargs: product. Plans with it in their mix follow.
product_repriced = Signal()

# A person renamed themselves; kwargs: memberships (theirs, in every organization), previous
# (the full name they had). The CRM identities keep that name theirs (funnel/receivers.py).
member_renamed = Signal()
# A plan's responsibility pie changed (an owner, a share, a split); kwargs: plan.
pie_changed = Signal()
# A plan's plan vs fact was recomputed and stored; kwargs: plan, since (the first day
# recomputed), last (the last day stored). Sent inside the recompute's transaction, so what a
# receiver stores commits (or rolls back) with the snapshots it summarises.
performance_refreshed = Signal()
# The demo organization was seeded (`manage.py seed_demo`); kwargs: organization. The layers
# above the plans add their own demo figures (the people's base bonuses: salesplan/kpis).
demo_seeded = Signal()
