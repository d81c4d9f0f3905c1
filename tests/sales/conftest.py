"""The showroom fixtures (a rooftop open every day with a demo car and a stock car, a consultant and a
manager) for every sales test module, and the hand-built March of the KPI tests."""

from .test_funnel import consultant, manager, showroom  # noqa: F401
from .test_kpis import month  # noqa: F401
