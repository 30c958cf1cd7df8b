"""aiosmtpd handler refusing every recipient (for SMTP failure tests):
    python3 -m aiosmtpd -n -c harness.smtp_refuse.RefuseRecipients MAILDIR
Anything that still got through would land in MAILDIR, so a test can
assert that nothing was delivered."""
from aiosmtpd.handlers import Mailbox


class RefuseRecipients(Mailbox):
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        return "550 5.1.1 no such user"
