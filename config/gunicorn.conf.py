# gunicorn settings for callerid: only what we change, each with its reason.
# Run: gunicorn -c config/gunicorn.conf.py wsgi:app   (--bind/--workers on the command line win)

# gevent must patch sockets, threads and locks before anything else imports them; with
# preload_app a worker could otherwise hang at start (measured: 4 of 8 runs).
import gevent.monkey

gevent.monkey.patch_all()

bind = "127.0.0.1:8000"

# Every open /events stream holds a connection for as long as a screen is open. gevent keeps each
# as a cheap greenlet (1000 per worker below), so screens can never starve Twilio's webhooks of
# workers the way a fixed thread pool can (see docs/deployment.md for the measurements).
# An open stream holds no database connection (it waits on its process's follower), so the pool
# (CALLERID_DB_POOL_SIZE + CALLERID_DB_MAX_OVERFLOW per worker) serves webhooks and pages only.
worker_class = "gevent"
workers = 2
worker_connections = 1000

# Load the app once in the master: workers share its memory, including phonenumbers' geocoder
# data (~100 MB per process otherwise), loaded in when_ready below.
preload_app = True

# Streams stay open indefinitely: a heartbeat comment every 15 s keeps them alive, and the gevent
# worker does not apply timeout to open connections; this only catches a blocked worker.
timeout = 30
# On restart, open streams are cut after this many seconds; browsers reconnect and replay.
graceful_timeout = 5
keepalive = 5

# The default control socket is one path per user, shared by every gunicorn on the machine:
# two instances (or tests) would fight over it.
control_socket_disable = True

accesslog = "-"
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms'


def when_ready(server):
    from callerid import numbers

    numbers.preload_offline_data()


def post_fork(server, worker):
    # Connections opened in the master must not be shared by the forked workers.
    app = getattr(server.app, "callable", None)
    extensions = getattr(app, "extensions", {})
    engine = extensions.get("callerid.engine")
    if engine is not None:
        engine.dispose(close=False)
