"""Work is queued in one way, from one kind of place.

Only views (the web views and the API's) and Celery task modules queue work, and always
after the transaction commits through the task's own ``delay_on_commit`` (or
``apply_async_on_commit`` when a countdown is needed). A plain ``.delay()`` inside a view's
transaction can run before the row it names exists; a queue call inside a library
function hides from its caller that calling it starts work elsewhere.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# The Django apps: every top-level package but the sandbox, the benchmarks and the tests.
APPS = sorted(
    p.parent.name
    for p in ROOT.glob("*/__init__.py")
    if p.parent.name not in {"sandbox", "bench", "tests"} and not p.parent.name.startswith(".")
)
ON_COMMIT = {"delay_on_commit", "apply_async_on_commit"}
OTHER_WAYS = {"delay", "apply_async", "send_task", "on_commit"}


def may_queue(path: Path) -> bool:
    """Task modules, view modules and the API's modules."""
    relative = path.relative_to(ROOT)
    return (
        path.name == "tasks.py"
        or path.name.startswith(("views", "api_"))
        or relative.parts[:2] == ("launchready", "api")
    )


def queue_calls(path: Path) -> list[tuple[int, str]]:
    calls = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr in ON_COMMIT | OTHER_WAYS:
                calls.append((node.lineno, node.func.attr))
    return calls


def project_files() -> list[Path]:
    return [
        path for app in APPS for path in sorted((ROOT / app).rglob("*.py")) if "migrations" not in path.parts
    ]


# Not queuing: after its commit, the site's monitors are brought in step with routes that
# were bulk-created in the same transaction (no task, no worker).
NOT_QUEUING = {("monitoring/signals.py", "on_commit")}
# The one home of delay_on_commit itself: the project's task class registers the send after
# commit, robustly (a broker that is down never fails the request that committed).
NOT_QUEUING |= {("launchready/celery.py", "on_commit")}
# Not queuing: a saved row's workspace gets a new page version again once the save commits
# (a page drawn in between from the old rows must not be kept), in the cache, no task.
NOT_QUEUING |= {("launchready/fragments.py", "on_commit")}


def test_work_is_queued_after_commit_in_one_way():
    found = [
        f"{path.relative_to(ROOT)}:{line} .{name}()"
        for path in project_files()
        for line, name in queue_calls(path)
        if name in OTHER_WAYS and (str(path.relative_to(ROOT)), name) not in NOT_QUEUING
    ]
    assert found == [], "queue with delay_on_commit / apply_async_on_commit instead: " + ", ".join(found)


def test_only_views_and_tasks_queue_work():
    found = [
        f"{path.relative_to(ROOT)}:{line}"
        for path in project_files()
        if not may_queue(path)
        for line, name in queue_calls(path)
        if name in ON_COMMIT
    ]
    assert found == [], "work queued outside a view or a task module: " + ", ".join(found)


def test_the_walk_sees_the_queue_calls():
    calls = {name for path in project_files() if may_queue(path) for _, name in queue_calls(path)}
    assert {"delay_on_commit", "apply_async_on_commit"} <= calls


def test_queuing_after_commit_is_one_named_robust_callback(db, django_capture_on_commit_callbacks) -> None:
    """delay_on_commit registers one callback that Django can name in its log; that a broker
    which is down never fails the committed request is shown end to end with a real
    redis-server stopped: tests/faults/test_redis_stopped.py."""
    from monitoring.tasks import send_notification

    with django_capture_on_commit_callbacks() as callbacks:
        send_notification.delay_on_commit(123)
    (callback,) = callbacks
    assert callback.args == (123,) and callback.__name__ == "delay"
