"""Every HTTP endpoint and every dependency it runs is `async def`: the warm path stays on the event loop.

FastAPI runs a plain `def` endpoint or dependency in a worker thread (one thread hop each, and one more to
validate a sync endpoint's response); on Lambda, one request per environment, those hops are pure overhead
(issue 10, section 5). The database calls inside stay synchronous psycopg on purpose.
"""

import inspect

import pytest
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from isp_billing_cli.template import functions

HTTP_FUNCTIONS = [f for f in functions() if getattr(f.load_module(), "app", None)]


def _calls(dependant: Dependant) -> list[tuple[str, object]]:
    found = []
    for sub in dependant.dependencies:
        found.extend(_calls(sub))
        if sub.call is not None:
            found.append((getattr(sub.call, "__qualname__", repr(sub.call)), sub.call))
    return found


def _is_async(call: object) -> bool:
    return inspect.iscoroutinefunction(call) or inspect.isasyncgenfunction(call)


@pytest.mark.parametrize("function", HTTP_FUNCTIONS, ids=lambda f: f.logical_id)
def test_every_endpoint_and_dependency_of_an_http_function_is_async(function):
    # Given the function's FastAPI routes
    routes = [route for route in function.load_module().app.routes if isinstance(route, APIRoute)]
    assert routes
    for route in routes:
        # When we collect the endpoint and every dependency FastAPI will call for it
        calls = [(route.endpoint.__qualname__, route.endpoint), *_calls(route.dependant)]
        # Then none of them is a plain def that FastAPI would hand to a worker thread
        sync = [name for name, call in calls if not _is_async(call)]
        assert sync == [], f"{route.path}: sync endpoint/dependencies {sync}"
