"""Costs as staff read them: dollars, with the cents that matter for a single conversation."""

from decimal import Decimal, InvalidOperation

from django import template

register = template.Library()


@register.filter
def usd(value):
    """`{{ cost|usd }}`: "$1.24", "$0.0841", "$0.00006"; None (no price known) is "unknown", never "$0"."""
    if value is None or value == "":
        return "unknown"
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return "unknown"
    if amount >= 1 or amount == 0:
        return f"${amount:,.2f}"
    if amount >= Decimal("0.0001"):
        return f"${amount:.4f}"
    return f"${amount.quantize(Decimal('0.000001')).normalize():f}"
