"""Boulevard backend: availability, booking, moving and cancelling through Boulevard's Client API.

At a Boulevard clinic, Boulevard is the calendar. So this backend does more than mirror:
- availability (`engine`): each provider's open times come from a cart holding the service
  with that provider's staff variant (cartBookableDates, then cartBookableTimes per date),
  kept in Django's cache for BOULEVARD_AVAILABILITY_CACHE_SECONDS; any write clears them.
- booking (`create_event`, inside scheduling.services' transaction, after Ava's row exists): a
  fresh cart with the client's details, the service and staff variant, the chosen time reserved,
  then checked out. Boulevard's appointment id becomes the row's `calendar_event_id`, so the
  row is the mirror the dashboard, confirmations and metrics read. Any failure raises and the
  row is rolled back; an unpaid reservation simply expires in Boulevard.
- a card needed at checkout (a deposit policy): nothing is booked; the caller is texted the
  clinic's online booking link (BOULEVARD_BOOKING_URL) after the rollback. Never card numbers by voice.
- moving (`update_event`) through appointmentRescheduleAvailableTimes + appointmentReschedule,
  with the same provider; cancelling (`delete_event`) through cancelAppointment, taking
  Boulevard's verdict on a late cancellation.

Its parts: `backend` (BoulevardCalendar and its per-thread instance), `availability` (bookable
times and the engine), `booking` (cart, checkout, move, cancel), `errors` (Boulevard's failures
as scheduling errors), `caching` (carts and the generation any write bumps), `client` (GraphQL)
and `sync` (the catalogue).
"""

from scheduling.calendars.boulevard.availability import BoulevardEngine, variant_for
from scheduling.calendars.boulevard.backend import BoulevardCalendar, get_boulevard_calendar
from scheduling.calendars.boulevard.caching import CART_TTL
from scheduling.calendars.boulevard.errors import CARD_CODES, TAKEN_CODES

__all__ = ["CARD_CODES", "CART_TTL", "TAKEN_CODES", "BoulevardCalendar", "BoulevardEngine", "get_boulevard_calendar",
           "variant_for"]
