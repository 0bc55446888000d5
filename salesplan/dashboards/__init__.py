"""The morning dashboards (issue 12): each role's home, the funnel dashboard, the marketer's
page, the owner's roll-up and a salesperson's "today". Pages read what the background jobs
stored (plan-vs-fact snapshots, marketing summaries); they never recompute in a request."""
