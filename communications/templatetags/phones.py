"""Phone numbers as staff read and dial them; storage and the API keep E.164."""

from django import template

from communications.phones import display_phone

register = template.Library()


@register.filter
def phone(value):
    """`{{ customer.phone|phone }}`: "(201) 555-0107" for the clinic's country, "+44 20 7946 0958" for others."""
    return display_phone(value)
