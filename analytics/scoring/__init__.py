"""Scoring a finished conversation: the transcript the scorer reads, the answer's schema, the scorers.

- transcript.format_transcript: both speakers labelled, tool calls and their results in line.
- openai_scorer.score_with_openai: the official SDK, chat completions with a strict JSON schema.
- heuristic.score_heuristically: the same fields without a model (no OPENAI_API_KEY).
- facts: what the data knows (bookings, transfers), which beats any scorer's guess.

The workflow that claims, scores and saves is analytics.services.score_conversation.
"""
