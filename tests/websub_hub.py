"""A real WebSub hub for tests: the hub of Flask-WebSub (PyPI `flask-websub`, listed in the W3C
WebSub implementation reports), served on 127.0.0.1 by werkzeug in a thread.

Flask-WebSub runs its work as Celery tasks; here Celery runs them eagerly (no broker), so the
hub verifies a subscriber's intent inside its answer to the subscription request, and
`publish()` fetches the topic and distributes it before it returns. It signs with sha512.

    hub = LiveHub(tmp_path).start()
    hub.url                      -> "http://127.0.0.1:<port>/hub"
    hub.callbacks(topic)         -> [(callback_url, secret), ...] of live subscriptions
    hub.publish(topic)           -> fetch the topic and push it to every subscriber (blocking:
                                    call it with asyncio.to_thread from a test)
    hub.failing = 503            -> every request to the hub is answered 503
    hub.failing_body = "..."     -> with this body
    hub.requests                 -> [(mode, topic, callback), ...] subscription requests received
    LiveHub(folder, verify_after_s=0.3)  -> answers 202 first and verifies intent 0.3 s later,
                                    from another thread (as a hub with a task queue does)
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from celery import Celery
from flask import Flask, request
from flask_websub.hub import Hub, SQLite3HubStorage
from werkzeug.serving import BaseWSGIServer, make_server


class LiveHub:
    def __init__(self, folder: Path, *, min_lease_s: int = 1, verify_after_s: float | None = None) -> None:
        self.failing: int | None = None
        self.failing_body = "hub out of order\n"
        self.requests: list[tuple[str, str, str]] = []
        self.app = Flask("test-hub")
        self.app.config.update(PUBLISH_SUPPORTED=True, HUB_MIN_LEASE_SECONDS=min_lease_s)
        celery = Celery("test-hub", set_as_current=False)
        celery.conf.update(task_always_eager=True, task_eager_propagates=False, broker_url="memory://localhost/",
                           result_backend="cache+memory://")
        self.storage = SQLite3HubStorage(str(folder / "hub.sqlite"))
        self.hub = Hub(self.storage, celery, MAX_ATTEMPTS=1, REQUEST_TIMEOUT=5)
        if verify_after_s is not None:
            self.hub.subscribe = _Later(self.hub.subscribe, verify_after_s)
            self.hub.unsubscribe = _Later(self.hub.unsubscribe, verify_after_s)
        self.app.register_blueprint(self.hub.build_blueprint(url_prefix="/hub"))
        self.app.before_request(self._before)
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    def _before(self) -> Any:
        if request.method == "POST" and request.form.get("hub.mode") in ("subscribe", "unsubscribe"):
            self.requests.append((request.form["hub.mode"], request.form.get("hub.topic", ""),
                                  request.form.get("hub.callback", "")))
        if self.failing:
            return self.failing_body, self.failing
        return None

    def start(self) -> LiveHub:
        self._server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, name="websub-hub", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_port}/hub"

    def callbacks(self, topic: str) -> list[tuple[str, str]]:
        return [(row[0], row[1]) for row in self.storage.get_callbacks(topic)]

    def publish(self, topic: str) -> None:
        self.hub.send_change_notification.delay(topic)


class _Later:
    """A task whose `.delay()` runs it `after_s` seconds later in a thread of its own."""

    def __init__(self, task: Any, after_s: float) -> None:
        self.task, self.after_s = task, after_s

    def delay(self, *args: Any) -> None:
        threading.Timer(self.after_s, self.task.delay, args).start()
