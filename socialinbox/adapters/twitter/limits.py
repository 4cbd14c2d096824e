"""X message size limits, importable without tweepy or twitter-text."""

from __future__ import annotations

__all__ = ["DM_TEXT_LIMIT", "POST_WEIGHTED_LIMIT"]

DM_TEXT_LIMIT = 10_000
"""Characters per DM (tweepy 4.17 docstring and X's older API reference).

NOTE: X does not say which unit it counts; :func:`split_dm_text` counts UTF-16
code units, which is never fewer than code points, so a part cannot be too long
in either unit.
"""
POST_WEIGHTED_LIMIT = 280
"""Weighted length of a post under the twitter-text v3 rules."""
