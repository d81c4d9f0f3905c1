"""Operational tasks: a heartbeat that proves broker, worker and cache are all alive."""

import socket

from celery import shared_task
from django.core.cache import cache
from django.utils import timezone

HEARTBEAT_CACHE_KEY = "worker-heartbeat"


@shared_task(name="dms.worker_heartbeat")
def worker_heartbeat(token: str) -> dict:
    """Record that a worker ran; the health page shows the last one."""
    beat = {"token": token, "host": socket.gethostname(), "at": timezone.now().isoformat()}
    cache.set(HEARTBEAT_CACHE_KEY, beat, timeout=None)
    return beat


@shared_task(name="dms.refresh_kpis")
def refresh_kpis() -> int:
    """Bring the KPI rollups of every day a write has touched up to date (every minute from beat)."""
    from .rollups import refresh

    return refresh()
