"""Salesplan: the project package and the kernel (organizations, people, access, plans' data,
the pure planning engine). Empty on purpose: importing `salesplan.planning` loads neither
Django nor Celery; the Celery app is loaded by SalesplanConfig.ready()."""
