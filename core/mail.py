"""Outgoing mail: real SMTP in production and tests, a folder of .eml files on the embedded default."""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path


@dataclass(frozen=True)
class MailSettings:
    backend: str = "file"  # "smtp" or "file"
    host: str = "127.0.0.1"
    port: int = 25
    username: str | None = None
    password: str | None = None
    use_tls: bool = False  # STARTTLS
    use_ssl: bool = False
    timeout: float = 10.0
    sender: str = "Attendance <no-reply@localhost>"
    file_dir: str = "instance/mail"


def build_message(settings: MailSettings, to: str, subject: str, text: str, html: str | None = None) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = settings.sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Message-ID"] = make_msgid(domain="attendance.local")
    msg.set_content(text)
    if html:
        msg.add_alternative(html, subtype="html")
    return msg


def send(settings: MailSettings, msg: EmailMessage) -> None:
    """Deliver one message. SMTP errors propagate: the caller (a task) decides on retries."""
    if settings.backend == "file":
        folder = Path(settings.file_dir)
        folder.mkdir(parents=True, exist_ok=True)
        name = msg["Message-ID"].strip("<>").replace("@", "_")
        (folder / f"{name}.eml").write_bytes(bytes(msg))
        return
    smtp_cls = smtplib.SMTP_SSL if settings.use_ssl else smtplib.SMTP
    with smtp_cls(settings.host, settings.port, timeout=settings.timeout) as smtp:
        if settings.use_tls:
            smtp.starttls(context=ssl.create_default_context())
        if settings.username:
            smtp.login(settings.username, settings.password or "")
        smtp.send_message(msg)
