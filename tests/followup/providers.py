"""A console provider that takes a few milliseconds a message, like a real gateway, so a worker
can be killed while it is in the middle of sending a batch."""

import os
import time

from followup.channels import ConsoleProvider


class SlowConsoleProvider(ConsoleProvider):
    def send(self, message):
        time.sleep(float(os.environ.get("TEST_SEND_SECONDS", "0.003")))
        return super().send(message)
