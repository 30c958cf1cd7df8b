"""Real-server test harness: private slapd, SMTP sink, apache2 and PAM
(pam_wrapper) on free 127.0.0.1 ports inside a temporary directory.

Every server runs in the foreground as a child of the test process and is
always stopped (fixtures finalise even when a test fails)."""
