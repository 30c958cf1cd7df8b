"""Reading the messages a test mail server stored in its Maildir.

SmtpSink (aiosmtpd) and Exim (a real MTA) store mail the same way and
differ only in how their file names sort; each class gives _files() in
arrival order and inherits the rest from here.
"""

import email
import email.policy


class MaildirReader:
    def _files(self):
        raise NotImplementedError

    def raw_messages(self):
        """Each stored message as bytes, in arrival order."""
        out = []
        for path in self._files():
            with open(path, "rb") as f:
                out.append(f.read())
        return out

    def messages(self):
        """[email.message.EmailMessage], parsed with email.policy.default."""
        return [email.message_from_bytes(raw, policy=email.policy.default)
                for raw in self.raw_messages()]

    def count(self):
        return len(self._files())
