#!/usr/bin/env python3
"""A tiny SMTP server for tests: stores every message it accepts in a directory.

    python scripts/smtp_sink.py --host 127.0.0.1 --port 2525 --dir /tmp/mail

For each message it writes `<name>.eml` (the raw bytes as received) and then `<name>.json`
(the envelope and the decoded headers and parts), where `<name>` is
`<nanoseconds since the epoch, 20 digits>-<pid>-<n>`: sorting names sorts messages by
arrival, also across a restart of the sink on the same directory. The JSON file is written
last and atomically, so a reader that sees it can read both. The sink prints "ready" on stdout
once it accepts connections and runs until it is terminated. `--reply "550 5.1.1 no such
user"` makes it answer every RCPT TO with that reply instead, to test how a client handles
refusals.
"""

import argparse
import itertools
import json
import os
import signal
import sys
import threading
import time
from email import policy
from email.parser import BytesParser

from aiosmtpd.controller import Controller


def _body(message, subtype):
    part = message.get_body(preferencelist=(subtype,))
    return None if part is None else part.get_content()


class Store:
    def __init__(self, directory, reply):
        self.directory = directory
        self.reply = reply
        self.counter = itertools.count(1)
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.reply:
            return self.reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        with self.lock:
            number = next(self.counter)
        name = f"{time.time_ns():020d}-{os.getpid()}-{number:06d}"
        base = os.path.join(self.directory, name)
        _write(base + ".eml", raw)
        message = BytesParser(policy=policy.default).parsebytes(raw)
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "from": str(message.get("From", "")),
            "to": str(message.get("To", "")),
            "subject": str(message.get("Subject", "")),
            "message_id": str(message.get("Message-ID", "")),
            "content_type": message.get_content_type(),
            "text": _body(message, "plain"),
            "html": _body(message, "html"),
        }
        _write(base + ".json", json.dumps(record, indent=2).encode("utf-8"))
        return "250 OK: stored"


def _write(path, data):
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dir", required=True, help="where to store received messages")
    parser.add_argument("--reply", help="answer every RCPT TO with this SMTP reply")
    args = parser.parse_args()

    os.makedirs(args.dir, exist_ok=True)
    controller = Controller(Store(args.dir, args.reply), hostname=args.host, port=args.port)
    controller.start()
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    print("ready", flush=True)
    try:
        stop.wait()
    finally:
        controller.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
