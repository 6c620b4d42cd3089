# gunicorn settings for callerid: only what we change, each with its reason.
# Run: gunicorn -c config/gunicorn.conf.py wsgi:app   (--bind/--workers on the command line win)

# gevent must patch sockets, threads and locks before anything else imports them; with
# preload_app a worker could otherwise hang at start (measured: 4 of 8 runs).
import gevent.monkey

gevent.monkey.patch_all()

import os  # noqa: E402  (after the patch, as above)

# /metrics sums every worker's counts through files in this folder (docs/deployment.md, Metrics).
# scripts/run and the systemd unit set it, one per instance; it must exist before the app is
# preloaded below, which opens the master's files in it.
METRICS_DIR = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None
if METRICS_DIR:
    os.makedirs(METRICS_DIR, exist_ok=True)

bind = "127.0.0.1:8000"

# Every open /events stream holds a connection for as long as a screen is open. gevent keeps each
# as a cheap greenlet (4000 per worker below), so screens can never starve Twilio's webhooks of
# workers the way a fixed thread pool can (see docs/deployment.md for the measurements).
# An open stream holds no database connection (it waits on its process's follower), so the pool
# (CALLERID_DB_POOL_SIZE + CALLERID_DB_MAX_OVERFLOW per worker) serves webhooks and pages only.
# gevent's worker with deadlines for slow clients and a cap per client address
# (callerid/worker.py; CALLERID_HEADER_TIMEOUT, _BODY_TIMEOUT, _CONNECTIONS_PER_ADDRESS).
worker_class = "callerid.worker.Worker"
workers = 2
# Idle and slow sockets are cut by those deadlines, so slots come back; room for 4000 per worker
# means a flood of slow clients cannot fill them. Each is a file descriptor: the systemd unit
# sets LimitNOFILE=16384 and scripts/run raises its soft limit (docs/security.md).
worker_connections = 4000

# Load the app once in the master: workers share its memory, including phonenumbers' geocoder
# data (~100 MB per process otherwise), loaded in when_ready below.
preload_app = True

# Streams stay open indefinitely: a heartbeat comment every 15 s keeps them alive, and the gevent
# worker does not apply timeout to open connections; this only catches a blocked worker.
timeout = 30
# On restart, open streams are cut after this many seconds; browsers reconnect and replay.
graceful_timeout = 5
# Keep-alive must stay on: the header deadline (CALLERID_HEADER_TIMEOUT) is applied in
# gunicorn's keep-alive loop, and it also bounds the idle wait between requests.
keepalive = 5

# The default control socket is one path per user, shared by every gunicorn on the machine:
# two instances (or tests) would fight over it.
control_socket_disable = True

accesslog = "-"
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms'


def on_starting(server):
    # Once per start of the master (not on a HUP reload, which keeps the workers' counts):
    # what an earlier run left behind would otherwise be added to this run's totals.
    if METRICS_DIR:
        from callerid.metrics import multiproc

        stale = multiproc.prepare(METRICS_DIR)
        server.log.info("metrics in %s (%d stale files removed)", METRICS_DIR, stale)
    elif server.cfg.workers > 1:
        server.log.warning(
            "PROMETHEUS_MULTIPROC_DIR is not set: each /metrics scrape shows one worker's counts"
        )


def child_exit(server, worker):
    if METRICS_DIR:
        from callerid.metrics import multiproc

        multiproc.worker_gone(METRICS_DIR, worker.pid)


def when_ready(server):
    from callerid import db, numbers
    from callerid.pool import PoolDoesNotFit

    numbers.preload_offline_data()
    # Before any worker exists: each inherits the pool size fitted here (see callerid/pool.py).
    app = getattr(server.app, "callable", None)
    if app is not None and "callerid.engine" in getattr(app, "extensions", {}):
        try:
            fitted = db.fit_to_server(app, server.cfg.workers)
        except (PoolDoesNotFit, db.NotWal) as error:
            server.log.error("%s", error)
            raise SystemExit(1) from None
        if fitted is not None:
            server.log.info("database connections: %s", fitted.describe())


def post_fork(server, worker):
    # Connections opened in the master must not be shared by the forked workers.
    app = getattr(server.app, "callable", None)
    extensions = getattr(app, "extensions", {})
    engine = extensions.get("callerid.engine")
    if engine is not None:
        engine.dispose(close=False)
    if METRICS_DIR:
        from callerid.metrics import multiproc

        multiproc.worker_started()
