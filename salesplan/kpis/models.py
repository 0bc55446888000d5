"""Role KPIs and bonus: the models of salesplan.kpis."""
