"""gunicorn's settings for the production image: gunicorn reads ./gunicorn.conf.py from its
working directory (/app in the image); options on its command line win."""

# The access log on stdout, with the webhook secrets and invitation tokens in URLs masked in
# it and in the error log (salesplan/logs.py).
accesslog = "-"
logger_class = "salesplan.logs.GunicornLogger"

# Load the app (and its warm-up: salesplan/wsgi.py) once, then fork the workers: they start
# with the views imported, the calendar loaded and the templates compiled, and share them.
preload_app = True
