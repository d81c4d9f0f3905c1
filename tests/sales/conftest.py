"""The showroom fixtures (a rooftop open every day with a demo car and a stock car, a consultant and a
manager) for every sales test module."""

from .test_funnel import consultant, manager, showroom  # noqa: F401
