"""gunicorn's settings for the production image: gunicorn reads ./gunicorn.conf.py from its
working directory (/app in the image); options on its command line win."""

# The access log on stdout, with the webhook secrets and invitation tokens in URLs masked in
# it and in the error log (salesplan/logs.py).
accesslog = "-"
logger_class = "salesplan.logs.GunicornLogger"
