# integration-test helpers for the dir area
