# integration-test helpers for the ctl area
