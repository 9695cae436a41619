"""The web UI: server-rendered HTML, no JavaScript. Everything shown is escaped.

Message HTML is shown in an ``<iframe sandbox srcdoc=...>`` (no scripts, no
same-origin access), and every page carries a Content-Security-Policy without
script sources, which the iframe inherits.
"""

from __future__ import annotations

import json
import re
from html import escape
from typing import TYPE_CHECKING, Any
from urllib.parse import SplitResult, quote

from .esps import ApiResponse
from .store import EventRecord, Received

if TYPE_CHECKING:
    from . import Sandbox

CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data: cid:; "
    "frame-src 'self'; form-action 'self'; base-uri 'none'"
)
STYLE = """
body{font:15px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:.3em .5em;
text-align:left;vertical-align:top}pre{background:#f6f6f6;padding:.6em;overflow:auto;
white-space:pre-wrap;word-break:break-all}iframe{width:100%;height:24em;border:1px solid #ccc}
form.inline{display:inline}code.key{word-break:break-all}button{margin:.1em}.ok{color:#070}.bad{color:#a00}
"""


def page(title: str, body: str, status: int = 200) -> ApiResponse:
    html = (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)} · Anymail sandbox</title><style>{STYLE}</style></head>"
        f'<body><p><a href="/">Anymail sandbox</a></p><h1>{escape(title)}</h1>{body}</body></html>'
    )
    return ApiResponse(
        status,
        html.encode("utf-8"),
        "text/html; charset=utf-8",
        headers={"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff"},
    )


def redirect(location: str) -> ApiResponse:
    return ApiResponse(303, b"", "text/plain", headers={"Location": location})


def not_found() -> ApiResponse:
    return page("Not found", "<p>The sandbox has no such page.</p>", status=404)


def get(sandbox: Sandbox, url: SplitResult) -> ApiResponse:
    path = url.path
    if path == "/":
        return message_list(sandbox)
    if path == "/api/messages":
        return ApiResponse.json(200, [summary(item) for item in sandbox.messages()])
    match = re.fullmatch(r"/messages/(\d+)/?", path)
    if match and (item := sandbox.store.get(int(match[1]))):
        return message_page(sandbox, item)
    match = re.fullmatch(r"/messages/(\d+)/attachments/(\d+)", path)
    if match and (item := sandbox.store.get(int(match[1]))):
        attachments = item.message.attachments
        index = int(match[2])
        if index < len(attachments):
            attachment = attachments[index]
            # Served as a download of opaque bytes: a hostile file never renders here.
            name = quote(attachment.filename or f"attachment-{index}")
            return ApiResponse(
                200,
                attachment.content,
                "application/octet-stream",
                headers={
                    "Content-Disposition": f"attachment; filename*=UTF-8''{name}",
                    "X-Content-Type-Options": "nosniff",
                },
            )
    return not_found()


def post(sandbox: Sandbox, path: str, form: dict[str, str]) -> ApiResponse:
    match = re.fullmatch(r"/messages/(\d+)/events", path)
    if match and (item := sandbox.store.get(int(match[1]))):
        try:
            sandbox.fire(item, form.get("event", ""), form.get("recipient") or None)
        except (ValueError, LookupError) as error:
            return page("Cannot fire that event", f"<p>{escape(str(error))}</p>", status=400)
        return redirect(f"/messages/{item.id}")
    if path == "/inbound":
        try:
            sandbox.post_inbound(form)
        except (ValueError, LookupError) as error:
            return page("Cannot post that inbound message", f"<p>{escape(str(error))}</p>", 400)
        return redirect("/#inbound")
    return not_found()


def summary(item: Received) -> dict[str, Any]:
    message = item.message
    return {
        "id": item.id,
        "esp": item.esp,
        "at": item.at.isoformat(),
        "from": message.from_email,
        "to": message.to,
        "cc": message.cc,
        "bcc": message.bcc,
        "subject": message.subject,
        "status": item.status,
        "ids": {rcpt: str(value) for rcpt, value in message.ids.items()},
        "events": [
            {"event": e.event, "recipient": e.recipient, "status": e.status, "answer": e.answer}
            for e in item.events
        ],
    }


def message_list(sandbox: Sandbox) -> ApiResponse:
    rows = "".join(
        f'<tr class="message"><td>{escape(item.at.strftime("%H:%M:%S"))}</td>'
        f"<td>{escape(sandbox.emulator(item.esp).name)}</td>"
        f"<td>{escape(item.message.from_email)}</td>"
        f"<td>{escape(', '.join(item.message.to + item.message.cc))}</td>"
        f'<td><a href="/messages/{item.id}">{escape(item.message.subject or "(no subject)")}'
        f"</a></td><td>{escape(item.status)}</td></tr>"
        for item in sandbox.messages()
    )
    table = (
        "<table><tr><th>Time</th><th>ESP</th><th>From</th><th>To</th><th>Subject</th>"
        f"<th>Status</th></tr>{rows}</table>"
        if rows
        else "<p>No messages yet. Point a backend's API URL setting at this sandbox.</p>"
    )
    settings = "".join(
        f"<tr><td>{escape(e.name)}</td><td><code>{escape(e.api_url_setting)}</code></td>"
        f"<td><code>{escape(e.api_url(sandbox.url))}</code></td></tr>"
        for e in sandbox.emulators.values()
    )
    # What the app needs to verify the sandbox's signatures (public keys, sandbox secrets).
    keys = "".join(
        f"<tr><td>{escape(e.name)}</td><td><code>{escape(name)}</code></td>"
        f'<td><code class="key">{escape(str(value))}</code></td></tr>'
        for e in sandbox.emulators.values()
        for name, value in e.webhook_settings().items()
    )
    rejected = "".join(
        f"<li>{escape(r.esp)} {escape(r.request.path)} → {r.response.status}: "
        f"<code>{escape(r.response.body.decode('utf-8', 'replace')[:300])}</code></li>"
        for r in sandbox.store.rejected[-20:]
    )
    return page(
        "Messages",
        f"{table}<h2>Refused calls</h2><ul>{rejected or '<li>none</li>'}</ul>"
        f"{inbound_form(sandbox)}<h2>Settings</h2><p>API key: <code>{escape(sandbox.api_key)}"
        f"</code>; webhooks go to <code>{escape(sandbox.webhook_url or '(not set)')}</code></p>"
        f"<table><tr><th>ESP</th><th>Setting</th><th>Value</th></tr>{settings}</table>"
        "<h2>Webhook keys</h2><p>The ANYMAIL settings that verify the sandbox's signed "
        "posts (its own key pairs' public halves):</p>"
        f"<table><tr><th>ESP</th><th>Setting</th><th>Value</th></tr>{keys}</table>",
    )


def inbound_form(sandbox: Sandbox) -> str:
    # Every ESP that receives mail, in its own inbound format.
    options = "".join(
        f'<option value="{escape(esp)}">{escape(emulator.name)}</option>'
        for esp, emulator in sorted(sandbox.emulators.items())
        if emulator.inbound_payload is not None
    )
    posts = "".join(event_row(record) for record in sandbox.inbound_posts)
    return (
        '<h2 id="inbound">Post an inbound message</h2>'
        '<form method="post" action="/inbound">'
        f'<label>ESP <select name="esp">{options}</select></label> '
        '<label>From <input name="from" value="sender@example.net"></label> '
        '<label>To <input name="to" value="inbox@example.com"></label><br>'
        '<label>Subject <input name="subject" value="Hello"></label><br>'
        '<textarea name="text" rows="4" cols="60">Hi there</textarea><br>'
        "<button>Post inbound</button></form>"
        f"<table>{posts}</table>"
    )


def event_row(record: EventRecord) -> str:
    good = record.status is not None and 200 <= record.status < 300
    return (
        f'<tr class="event"><td>{escape(record.at.strftime("%H:%M:%S"))}</td>'
        f"<td>{escape(record.event)}</td><td>{escape(record.recipient)}</td>"
        f'<td class="{"ok" if good else "bad"} status">{escape(str(record.status))}</td>'
        f"<td><code>{escape(record.answer[:500])}</code></td></tr>"
    )


def message_page(sandbox: Sandbox, item: Received) -> ApiResponse:
    emulator = sandbox.emulator(item.esp)
    message = item.message
    fields = [
        ("ESP", emulator.name),
        ("From", message.from_email),
        ("To", ", ".join(message.to)),
        ("Cc", ", ".join(message.cc)),
        ("Bcc", ", ".join(message.bcc)),
        ("Subject", message.subject),
        ("Tags", ", ".join(message.tags)),
        ("Metadata", json.dumps(message.metadata) if message.metadata else ""),
        ("Template", message.template or ""),
        ("ESP message ids", ", ".join(f"{k}: {v}" for k, v in message.ids.items())),
        *((f"Header {name}", value) for name, value in message.headers.items()),
    ]
    details = "".join(
        f"<tr><th>{escape(name)}</th><td>{escape(str(value))}</td></tr>"
        for name, value in fields
        if value
    )
    attachments = "".join(
        f'<li><a href="/messages/{item.id}/attachments/{index}" download>'
        f"{escape(a.filename or f'attachment-{index}')}</a> ({escape(a.content_type)}, "
        f"{len(a.content)} bytes)</li>"
        for index, a in enumerate(message.attachments)
    )
    html = (
        f'<iframe sandbox="" title="HTML body" srcdoc="{escape(message.html, quote=True)}">'
        "</iframe>"
        if message.html
        else "<p>(no HTML body)</p>"
    )
    recipients = "".join(
        f"<option>{escape(rcpt)}</option>" for rcpt in dict.fromkeys(message.recipients)
    )
    buttons = "".join(
        f'<button name="event" value="{escape(event)}">{escape(event)}</button>'
        for event in emulator.events
    )
    events = "".join(event_row(record) for record in item.events)
    body = (
        f"<table>{details}</table>"
        f"<h2>Fire a tracking event</h2>"
        f'<form method="post" action="/messages/{item.id}/events">'
        f'<label>Recipient <select name="recipient">{recipients}</select></label> {buttons}'
        "</form>"
        f'<h2>Events posted to the app</h2><table id="events">{events}</table>'
        f"<h2>Text</h2><pre>{escape(message.text or '(no text body)')}</pre>"
        f"<h2>HTML</h2>{html}"
        f"<h2>Attachments</h2><ul>{attachments or '<li>none</li>'}</ul>"
        f"<h2>The request {escape(emulator.name)} received</h2>"
        f"<pre>{escape(request_text(emulator.secret_headers, item))}</pre>"
        f"<h2>The answer</h2><pre>{item.response.status}\n"
        f"{escape(item.response.body.decode('utf-8', 'replace'))}</pre>"
    )
    return page(message.subject or "(no subject)", body)


def request_text(secret_headers: tuple[str, ...], item: Received) -> str:
    secret = {name.lower() for name in (*secret_headers, "authorization")}
    headers = "\n".join(
        f"{name}: {'(hidden)' if name.lower() in secret else value}"
        for name, value in item.request.headers.items()
    )
    body = item.request.body.decode("utf-8", "replace")
    if len(body) > 200_000:
        body = body[:200_000] + "\n… (truncated)"
    return f"{item.request.method} {item.request.path}\n{headers}\n\n{body}"
