"""X (Twitter) direct messages: codec, tweepy transport and adapter.

Only the codec is imported eagerly by the registry; importing this package
does not import tweepy.
"""

from __future__ import annotations
