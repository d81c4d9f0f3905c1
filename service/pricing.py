"""Repair-order money, computed in one place, in ``Decimal`` rounded to the cent (half up).

A line's net is its amount less its discount; the order discount comes off the customer-pay net;
tax is the order's rate on each payer's net. Warranty lines are billed to the manufacturer and
internal lines to the rooftop; the customer pays the customer-pay total.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from .choices import LineStatus, PayType

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def labour_amount(line) -> Decimal:
    return cents(line.hours * line.rate)


def part_amount(line) -> Decimal:
    return cents(line.quantity * line.unit_price)


@dataclass
class PayerTotal:
    labour: Decimal = ZERO
    parts: Decimal = ZERO
    discount: Decimal = ZERO
    net: Decimal = ZERO
    tax: Decimal = ZERO
    total: Decimal = ZERO


@dataclass
class Totals:
    labour: Decimal = ZERO
    parts: Decimal = ZERO
    discount: Decimal = ZERO
    net: Decimal = ZERO
    tax: Decimal = ZERO
    total: Decimal = ZERO
    by_payer: dict[str, PayerTotal] = field(default_factory=dict)
    proposed: Decimal = ZERO  # additional work still awaiting the customer's answer, with tax

    @property
    def customer_due(self) -> Decimal:
        return self.by_payer[PayType.CUSTOMER].total


def totals(repair_order, labour_lines=None, part_lines=None) -> Totals:
    """The order's totals from its approved lines (pass the lines when they are already loaded)."""
    labour_lines = list(repair_order.labour_lines.all()) if labour_lines is None else labour_lines
    part_lines = list(repair_order.part_lines.all()) if part_lines is None else part_lines
    rate = repair_order.tax_rate
    payers = {pay_type: PayerTotal() for pay_type in PayType.values}
    proposed = ZERO
    for line, amount, kind in [(line, labour_amount(line), "labour") for line in labour_lines] + [
        (line, part_amount(line), "parts") for line in part_lines
    ]:
        if line.status == LineStatus.PROPOSED:
            proposed += amount - line.discount_amount
            continue
        if line.status != LineStatus.APPROVED:
            continue
        payer = payers[line.pay_type]
        setattr(payer, kind, getattr(payer, kind) + amount)
        payer.discount += line.discount_amount
    order_discount = repair_order.discount_amount
    for pay_type, payer in payers.items():
        if pay_type == PayType.CUSTOMER:
            payer.discount += order_discount
        payer.net = max(ZERO, payer.labour + payer.parts - payer.discount)
        payer.tax = cents(payer.net * rate)
        payer.total = payer.net + payer.tax
    result = Totals(by_payer=payers, proposed=cents(proposed * (1 + rate)))
    for name in ("labour", "parts", "discount", "net", "tax", "total"):
        setattr(result, name, sum((getattr(payer, name) for payer in payers.values()), ZERO))
    return result
