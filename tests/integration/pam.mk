# integration-test helpers for the pam area
