"""Normalize a Messenger webhook body, store it, and read the inbox back.

Run it from the repository root:

    python examples/quickstart.py

It writes ``quickstart.db`` in a temporary folder and prints the inbox.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import socialinbox

WEBHOOK_BODY = {
    "object": "page",
    "entry": [
        {
            "id": "1067280970047460",
            "time": 1767261600000,
            "messaging": [
                {
                    "sender": {"id": "6745183940021187"},
                    "recipient": {"id": "1067280970047460"},
                    "timestamp": 1767261598000,
                    "message": {
                        "mid": "m_quickstart_1",
                        "text": "Merhaba, para çekme talebim 3 gündür beklemede 🙏",
                    },
                }
            ],
        }
    ],
}


def main() -> None:
    folder = Path(tempfile.mkdtemp())
    store = socialinbox.Store.open(f"sqlite:///{folder / 'quickstart.db'}")

    batch = socialinbox.normalize(json.dumps(WEBHOOK_BODY), "messenger")
    first = store.ingest(batch)
    again = store.ingest(batch)  # a redelivered webhook stores nothing new
    print(f"stored {first.messages_stored}, then {again.duplicates} duplicate(s)")

    for conversation in store.list_conversations(status="open"):
        print(conversation.key, conversation.last_inbound_at)
        for message in store.list_messages(conversation.key):
            print(f"  {message.direction.value}: {message.text}")
    store.close()


if __name__ == "__main__":
    main()
