from django import forms

from communications.models import Channel, Conversation, Outcome, Sentiment, VoiceCallDetail
from communications.selectors import SORTS


class InboxFilterForm(forms.Form):
    """The inbox's filters, read from the query string so a filtered view can be bookmarked."""

    q = forms.CharField(required=False, label="Search", max_length=200,
                        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Name, phone, email or words said"}))
    channel = forms.ChoiceField(required=False, choices=[("", "All channels"), *Channel.choices])
    source = forms.ChoiceField(required=False, label="Calls", choices=[
        ("", "All calls"), (VoiceCallDetail.Source.PHONE, "Phone calls"), (VoiceCallDetail.Source.WEB, "Web calls")])
    status = forms.ChoiceField(required=False, choices=[("", "Any status"), *Conversation.Status.choices])
    outcome = forms.ChoiceField(required=False, choices=[("", "Any outcome"), *Outcome.choices])
    sentiment = forms.ChoiceField(required=False, choices=[("", "Any sentiment"), *Sentiment.choices])
    escalated = forms.NullBooleanField(required=False, widget=forms.Select(choices=[("", "Escalated or not"), ("true", "Escalated"), ("false", "Not escalated")]))
    date_from = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))
    score_min = forms.IntegerField(required=False, min_value=0, max_value=10, label="Score from")
    score_max = forms.IntegerField(required=False, min_value=0, max_value=10, label="Score to")
    sort = forms.ChoiceField(required=False, choices=[(key, key.replace("_", " ").capitalize()) for key in SORTS])
    page = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_to"] < data["date_from"]:
            self.add_error("date_to", "The end date is before the start date.")
        if data.get("source") and data.get("channel") not in ("", None, Channel.VOICE):
            self.add_error("source", "Phone and web calls are voice calls: choose Voice call or All channels.")
        if data.get("score_min") is not None and data.get("score_max") is not None and data["score_max"] < data["score_min"]:
            self.add_error("score_max", "The highest score is below the lowest.")
        return data

    def filters(self):
        """Keyword arguments for conversations_for_inbox (only the valid ones)."""
        data = self.cleaned_data if self.is_valid() else {}
        return {
            "q": (data.get("q") or "").strip(),
            "channel": data.get("channel") or None,
            "source": data.get("source") or None,
            "status": data.get("status") or None,
            "outcome": data.get("outcome") or None,
            "sentiment": data.get("sentiment") or None,
            "escalated": data.get("escalated"),
            "date_from": data.get("date_from"),
            "date_to": data.get("date_to"),
            "score_min": data.get("score_min"),
            "score_max": data.get("score_max"),
            "sort": data.get("sort") or "newest",
        }


class MergeCustomerForm(forms.Form):
    duplicate = forms.CharField(label="The other customer's phone, email or number", max_length=200)


class CustomerSearchForm(forms.Form):
    """The customers page's search, from the query string (bookmarkable, like the inbox's filters)."""

    q = forms.CharField(required=False, label="Search", max_length=200,
                        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Name, phone (any format) or email"}))
    page = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
