# integration-test helpers for the mail area
